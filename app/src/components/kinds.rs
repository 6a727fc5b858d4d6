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
///
/// A plain list rebuilt in place on every frame (row *i* takes row *i*'s new text), not a keyed
/// `<For>`: nothing in it can be clicked, so row identity does not matter, and the keyed diff is
/// WASM the page would carry for nothing.
#[component]
pub fn FailureReasons(stats: Stats) -> impl IntoView {
    let rows = move || {
        stats.with(|s| {
            let rows: Vec<_> = s
                .failure_reasons
                .iter()
                .map(|r| ("failed", r))
                .chain(s.drop_reasons.iter().map(|r| ("dropped", r)))
                .map(|(what, r)| {
                    view! {
                        <li>
                            <span class=format!("tag tag-{what}")>{what}</span>
                            {format!(" {}: ", r.reason)} <strong>{format::count(r.count)}</strong>
                        </li>
                    }
                    .into_any()
                })
                .collect();
            if rows.is_empty() {
                vec![view! { <li class="muted">"No failures yet."</li> }.into_any()]
            } else {
                rows
            }
        })
    };
    view! { <ul class="reasons" aria-label="Why messages failed or were dropped">{rows}</ul> }.into_any()
}
