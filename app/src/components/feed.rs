//! The feed: the latest acknowledged messages (a sample at high rates), newest first, with how
//! each ended and why. Pausable, so a visitor can read a failure's reason while traffic flows.

use crate::format;
use crate::model::{FeedItem, LiveModel};
use leptos::prelude::*;

/// The latest messages, with a pause toggle that freezes the list on screen.
#[component]
pub fn MessageFeed(model: RwSignal<LiveModel>) -> impl IntoView {
    let paused = RwSignal::new(false);
    let frozen = RwSignal::new(Vec::<FeedItem>::new());
    let toggle = move |_| {
        if !paused.get_untracked() {
            frozen.set(model.with_untracked(|m| m.feed.iter().cloned().collect()));
        }
        paused.update(|p| *p = !*p);
    };
    let items = move || {
        let mut items: Vec<FeedItem> =
            if paused.get() { frozen.get() } else { model.with(|m| m.feed.iter().cloned().collect()) };
        items.reverse();
        items
    };
    let newer = move || {
        let last = frozen.with(|f| f.last().map_or(0, |i| i.id));
        model.with(|m| m.feed.iter().filter(|i| i.id > last).count())
    };
    view! {
        <section class="panel feed-panel" aria-labelledby="feed-title">
            <div class="panel-head">
                <h2 id="feed-title">"Latest messages"</h2>
                <span class="muted small" data-testid="feed-state">
                    {move || if paused.get() { format!("paused · {} newer", newer()) } else { "live".into() }}
                </span>
                <button type="button" class="small-button" aria-pressed=move || paused.get().to_string()
                    data-testid="feed-pause" on:click=toggle>
                    {move || if paused.get() { "Resume feed" } else { "Pause feed" }}
                </button>
            </div>
            <div class="feed-scroll">
                <table class="feed" data-testid="feed">
                    <thead>
                        <tr><th scope="col">"sensor"</th><th scope="col">"kind"</th><th scope="col">"value"</th>
                            <th scope="col">"status"</th><th scope="col">"reason"</th></tr>
                    </thead>
                    <tbody>
                        <For each=items key=|i| i.id let(i)>
                            <tr data-status=i.status.as_str()>
                                <td class="mono" data-testid="feed-sensor">{i.sensor}</td>
                                <td>{i.kind.as_str()}</td>
                                <td class="num">{format!("{} {}", format::value(i.value), i.kind.unit())}</td>
                                <td><span class=format!("tag tag-{}", i.status.as_str())>{i.status.as_str()}</span>
                                    {(i.attempts > 1).then(|| view! { <span class="muted small">{format!(" ×{}", i.attempts)}</span> })}</td>
                                <td class="reason">{i.reason.unwrap_or_default()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
                <Show when=move || model.with(|m| m.feed.is_empty()) && !paused.get()>
                    <p class="muted">"No messages yet: publish some, or start the simulated publisher."</p>
                </Show>
            </div>
        </section>
    }
    .into_any()
}
