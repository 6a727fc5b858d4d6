//! Pub/sub tab: topics, and each subscriber with its buffer fill, overflow policy, deliveries
//! and lost messages. An empty pub/sub says so rather than showing a blank table.

use super::state::DashState;
use crate::format;
use leptos::prelude::*;

/// Buffer fill in percent (0 for an unknown capacity).
fn fill_pct(buffered: u64, capacity: u64) -> f64 {
    if capacity == 0 { 0.0 } else { (buffered as f64 * 100.0 / capacity as f64).min(100.0) }
}

/// The pub/sub tab.
#[component]
pub fn PubSubTab(state: DashState) -> impl IntoView {
    let topics = move || {
        state.stats.with(|s| {
            if s.pubsub.topics.is_empty() {
                return view! { <p class="muted" data-testid="pubsub-empty">"The pub/sub reports no topics yet."</p> }.into_any();
            }
            view! {
                <table class="kinds">
                    <thead><tr><th>"Topic"</th><th class="num">"Subscribers"</th><th class="num">"Published"</th></tr></thead>
                    <tbody>
                        {s.pubsub.topics.iter().map(|t| view! {
                            <tr data-testid="topic-row">
                                <td>{t.topic.clone()}</td>
                                <td class="num">{t.subscribers}</td>
                                <td class="num" data-testid="topic-published">{format::count(t.published)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        })
    };
    let subscribers = move || {
        state.stats.with(|s| {
            if s.pubsub.subscribers.is_empty() {
                return view! { <p class="muted">"No subscriber details reported."</p> }.into_any();
            }
            view! {
                <table class="kinds">
                    <thead><tr>
                        <th>"Subscriber"</th><th>"Topics"</th><th>"Buffer"</th><th>"Overflow"</th>
                        <th class="num">"Delivered"</th><th class="num">"Lost"</th>
                    </tr></thead>
                    <tbody>
                        {s.pubsub.subscribers.iter().map(|sub| {
                            let pct = fill_pct(sub.buffered, sub.capacity);
                            view! {
                                <tr data-testid="subscriber-row">
                                    <td>{sub.name.clone()}</td>
                                    <td>{sub.patterns.join(", ")}</td>
                                    <td>
                                        <meter min="0" max="100" value=pct aria-label=format!("{} buffer fill", sub.name)></meter>
                                        {format!(" {} / {} ({pct:.0} %)", format::count(sub.buffered), format::count(sub.capacity))}
                                    </td>
                                    <td>{sub.overflow.label()}</td>
                                    <td class="num" data-testid="subscriber-delivered">{format::count(sub.delivered)}</td>
                                    <td class="num" data-testid="subscriber-lost">{format::count(sub.lost)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        })
    };
    view! {
        <section class="panel" aria-label="Topics"><h2>"Topics"</h2>{topics}</section>
        <section class="panel" aria-label="Subscribers"><h2>"Subscribers"</h2>{subscribers}</section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fill_is_bounded() {
        assert_eq!(super::fill_pct(5, 0), 0.0);
        assert_eq!(super::fill_pct(50, 200), 25.0);
        assert_eq!(super::fill_pct(500, 200), 100.0);
    }
}
