//! What the batcher computed per kind, and why messages failed.

use super::Stats;
use crate::format;
use crate::model::Kind;
use leptos::prelude::*;

/// One row per kind: count, min, mean, max and last processed value.
#[component]
pub fn KindTable(stats: Stats) -> impl IntoView {
    let row = move |kind: Kind| {
        let agg = move || stats.with(|s| s.kinds.iter().find(|a| a.kind == kind).cloned());
        let cell = move |f: fn(&crate::model::KindAggregate) -> String| {
            move || agg().map(|a| f(&a)).unwrap_or_else(|| "–".into())
        };
        view! {
            <tr>
                <th scope="row">{kind.as_str()}<span class="unit">{format!(" ({})", kind.unit())}</span></th>
                <td>{cell(|a| format::count(a.count))}</td>
                <td>{cell(|a| format::value(a.min))}</td>
                <td>{cell(|a| format::value(a.mean))}</td>
                <td>{cell(|a| format::value(a.max))}</td>
                <td>{cell(|a| format::value(a.last))}</td>
            </tr>
        }
    };
    view! {
        <table class="kinds" aria-label="Per-kind aggregates">
            <thead>
                <tr><th scope="col">"kind"</th><th scope="col">"count"</th><th scope="col">"min"</th>
                    <th scope="col">"mean"</th><th scope="col">"max"</th><th scope="col">"last"</th></tr>
            </thead>
            <tbody>{Kind::ALL.map(row)}</tbody>
        </table>
    }
    .into_any()
}

/// Failure and drop counts by reason; says so plainly when there are none.
#[component]
pub fn FailureReasons(stats: Stats) -> impl IntoView {
    let rows = move || {
        stats.with(|s| {
            s.failure_reasons
                .iter()
                .map(|r| ("failed", r.clone()))
                .chain(s.drop_reasons.iter().map(|r| ("dropped", r.clone())))
                .collect::<Vec<_>>()
        })
    };
    let any = move || stats.with(|s| !s.failure_reasons.is_empty() || !s.drop_reasons.is_empty());
    view! {
        <ul class="reasons" aria-label="Why messages failed or were dropped">
            <Show when=any fallback=|| view! { <li class="muted">"No failures yet."</li> }>
                // Keyed by count too: a row is redrawn when its count changes.
                <For each=rows key=|(what, r)| (*what, r.reason.clone(), r.count) let((what, r))>
                    <li>
                        <span class=format!("tag tag-{what}")>{what}</span>
                        " " {r.reason} ": " <strong>{format::count(r.count)}</strong>
                    </li>
                </For>
            </Show>
        </ul>
    }
    .into_any()
}
