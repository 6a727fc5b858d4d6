//! The dead-letter queue on the live page: how full it is, its newest letters with their last
//! failure reason, and replay (one or all) / purge. The letters come with the live stream
//! (the server lists them again when the queue changes, at most once a second).

use super::Stats;
use super::controls::{Control, Outcome, counted};
use crate::api::{purge_dead_letters, replay_dead_letters};
use crate::error::AppError;
use crate::format;
use crate::model::DeadLetterRow;
use leptos::prelude::*;

/// The queue's counts, newest letters and actions.
#[component]
pub fn DeadLetterPanel(stats: Stats, letters: Signal<Vec<DeadLetterRow>>) -> impl IntoView {
    // Replay and purge share one control: whichever was used last speaks.
    let control = Control::new();
    let said = control.said();
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
                    on:click=move |_| control.run(Ok(replayed(Vec::new())))>"Replay all"</button>
                <button type="button" class="secondary" data-testid="dlq-purge" disabled=empty
                    on:click=move |_| control.run(Ok(async {
                        let n = purge_dead_letters().await?;
                        Ok(format!("Purged {}.", counted(n, "letter")))
                    }))>"Purge"</button>
            </div>
            <Outcome testid="dlq-outcome" said/>
            <p class="muted" hidden=move || !letters.with(Vec::is_empty)>
                "No dead letters: messages that fail every attempt land here."
            </p>
            // Letters are keyed by id: a new list keeps the rows (and Replay buttons) that are
            // still there, so a click is not lost to a redraw while failures flow.
            <ul class="letters" data-testid="dlq-list">
                <For each=move || letters.get() key=|e| e.id let(e)>
                    {letter(e, control)}
                </For>
            </ul>
        </section>
    }
    .into_any()
}

fn letter(e: DeadLetterRow, control: Control) -> impl IntoView {
    let DeadLetterRow { id, what, reason, attempts } = e;
    view! {
        <li data-id=id>
            <span class="mono">{what}</span>
            <span class="reason">{format!("{reason} · {}", counted(attempts.into(), "attempt"))}</span>
            <button type="button" class="small-button" aria-label=format!("Replay letter {id}")
                on:click=move |_| control.run(Ok(replayed(vec![id])))>"Replay"</button>
        </li>
    }
}

/// Replays the letters `ids` (none: all of them) and says how many went.
async fn replayed(ids: Vec<u64>) -> Result<String, AppError> {
    let all = ids.is_empty();
    let n = replay_dead_letters(ids, all).await?;
    Ok(format!("Replayed {}.", counted(n, "letter")))
}
