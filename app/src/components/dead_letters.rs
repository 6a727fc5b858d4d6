//! The dead-letter queue on the live page: how full it is, its newest letters with their last
//! failure reason, and replay (one or all) / purge.

use super::controls::{Control, Outcome, Said};
use crate::api::{PurgeDeadLetters, ReplayDeadLetters, recent_dead_letters};
use crate::format;
use crate::model::{DeadLetterRow, StatsSnapshot};
use leptos::prelude::*;

/// Letters listed on the page.
const SHOWN: u32 = 8;

/// The queue's counts, newest letters and actions.
#[component]
pub fn DeadLetterPanel(stats: Signal<StatsSnapshot>) -> impl IntoView {
    let replay = Control::<ReplayDeadLetters>::new();
    let purge = Control::<PurgeDeadLetters>::new();
    // Refetch when the queue changes, at most once a second whatever the failure rate.
    let key = Memo::new(move |prev: Option<&(u64, [u64; 3])>| {
        let (sec, counts) = stats.with(|s| {
            let d = &s.dead_letters;
            (s.uptime_ms / 1000, [d.written, d.replayed, d.stored])
        });
        match prev {
            Some(&(psec, pcounts)) if pcounts == counts || psec == sec => (psec, pcounts),
            _ => (sec, counts),
        }
    });
    let page = Resource::new(move || key.get().1, |_| recent_dead_letters(SHOWN));
    let entries = Signal::derive(move || page.get().and_then(Result::ok).unwrap_or_default());
    let replayed =
        replay.said(|n| format!("Replayed {} letter{}.", format::count(*n), if *n == 1 { "" } else { "s" }));
    let purged =
        purge.said(|n| format!("Purged {} letter{}.", format::count(*n), if *n == 1 { "" } else { "s" }));
    // Whichever button was used last speaks.
    let purged_last = RwSignal::new(false);
    let said: Signal<Said> =
        Signal::derive(move || if purged_last.get() { purged.get() } else { replayed.get() });
    let empty = move || stats.with(|s| s.dead_letters.stored == 0);
    view! {
        <section class="panel" aria-labelledby="dlq-title">
            <div class="panel-head">
                <h2 id="dlq-title">"Dead letters"</h2>
                <span class="muted small" data-testid="dlq-counts">
                    {move || stats.with(|s| {
                        let d = &s.dead_letters;
                        format!("{} of {} kept · {} replayed · {} evicted", format::count(d.stored),
                            format::count(d.capacity), format::count(d.replayed), format::count(d.evicted))
                    })}
                </span>
            </div>
            <div class="row">
                <button type="button" data-testid="dlq-replay-all" disabled=empty
                    on:click=move |_| {
                        purged_last.set(false);
                        replay.run(Ok(ReplayDeadLetters { ids: Vec::new(), all: true }));
                    }>"Replay all"</button>
                <button type="button" class="secondary" data-testid="dlq-purge" disabled=empty
                    on:click=move |_| {
                        purged_last.set(true);
                        purge.run(Ok(PurgeDeadLetters {}));
                    }>"Purge"</button>
            </div>
            <Outcome testid="dlq-outcome" said/>
            // Letters are keyed by id: a refetch keeps the rows (and Replay buttons) that are
            // still there, so a click is not lost to a redraw while failures flow.
            <Transition fallback=|| ()>
                {move || page.get().and_then(Result::err).map(|e| view! {
                    <p class="error" role="alert">{format!("Could not list dead letters: {e}")}</p>
                })}
                <Show when=move || !entries.with(Vec::is_empty)
                    fallback=|| view! { <p class="muted">"No dead letters: messages that fail every attempt land here."</p> }>
                    <ul class="letters" data-testid="dlq-list">
                        <For each=move || entries.get() key=|e| e.id let(e)>
                            {letter(e, replay, purged_last)}
                        </For>
                    </ul>
                </Show>
            </Transition>
        </section>
    }
    .into_any()
}

fn letter(
    e: DeadLetterRow,
    replay: Control<ReplayDeadLetters>,
    purged_last: RwSignal<bool>,
) -> impl IntoView {
    let DeadLetterRow { id, what, reason, attempts } = e;
    view! {
        <li data-id=id>
            <span class="mono">{what}</span>
            <span class="reason">{format!("{reason} · {attempts} attempt{}", if attempts == 1 { "" } else { "s" })}</span>
            <button type="button" class="small-button" aria-label=format!("Replay letter {id}")
                on:click=move |_| {
                    purged_last.set(false);
                    replay.run(Ok(ReplayDeadLetters { ids: vec![id], all: false }));
                }>"Replay"</button>
        </li>
    }
}
