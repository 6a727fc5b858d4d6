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
    // Newest first. Rebuilt in place on every frame (row *i* takes the *i*-th newest item), not
    // a keyed `<For>`: nothing in a row can be clicked, so which element shows which message does
    // not matter, and the keyed diff is WASM the page would carry for nothing.
    let rows = move || {
        let row = |i: &FeedItem| {
            view! {
                <tr data-status=i.status.as_str()>
                    <td class="mono" data-testid="feed-sensor">{i.sensor.clone()}</td>
                    <td>{i.kind.as_str()}</td>
                    <td class="num">{format!("{} {}", format::value(i.value), i.kind.unit())}</td>
                    <td><span class=format!("tag tag-{}", i.status.as_str())>{i.status.as_str()}</span>
                        <span class="muted small">{if i.attempts > 1 { format!(" ×{}", i.attempts) } else { String::new() }}</span></td>
                    <td class="reason">{i.reason.clone().unwrap_or_default()}</td>
                </tr>
            }
        };
        if paused.get() {
            frozen.with(|f| f.iter().rev().map(row).collect::<Vec<_>>())
        } else {
            model.with(|m| m.feed.iter().rev().map(row).collect::<Vec<_>>())
        }
    };
    let empty = move || model.with(|m| m.feed.is_empty()) && !paused.get();
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
                    <tbody>{rows}</tbody>
                </table>
                <p class="muted" hidden=move || !empty()>"No messages yet: publish some, or start the simulated publisher."</p>
            </div>
        </section>
    }
    .into_any()
}
