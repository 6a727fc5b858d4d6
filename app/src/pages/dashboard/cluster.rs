//! Cluster tab: which node this page is on, every node sharing the work (status with heartbeat
//! age, events/s, pending, claims, redeliveries, duplicates), the cluster ledger with its
//! total row, the bus (Redis version, persistence, stream length, lag, pending, broadcasts),
//! and a timeline of joins, deaths and claims seen while the tab is open. Polled with
//! `get_cluster` once per refresh interval; events/s are the finished events between two
//! polls over the interval.

use super::state::DashState;
use crate::api::control_all;
#[cfg(feature = "hydrate")]
use crate::api::get_cluster;
use crate::components::controls::{Control, Outcome, counted, whole};
use crate::format;
#[cfg(feature = "hydrate")]
use crate::model::cluster_events;
use crate::model::{ClusterInfo, ClusterNode, NodeCounts};
use leptos::prelude::*;
use std::collections::HashMap;

/// Timeline entries kept, newest first.
#[cfg(feature = "hydrate")]
const TIMELINE: usize = 50;

/// What the tab holds between polls.
#[derive(Clone, Copy)]
struct ClusterState {
    view: RwSignal<Option<ClusterInfo>>,
    error: RwSignal<Option<String>>,
    /// (when, what), newest first.
    timeline: RwSignal<Vec<(String, String)>>,
    /// Events/s per node name, from the last two polls.
    rates: RwSignal<HashMap<String, f64>>,
}

/// The cluster tab.
#[component]
pub fn ClusterTab(state: DashState) -> impl IntoView {
    let cs = ClusterState {
        view: RwSignal::new(None),
        error: RwSignal::new(None),
        timeline: RwSignal::new(Vec::new()),
        rates: RwSignal::new(HashMap::new()),
    };
    poll::start(cs, state);
    let body = move || match cs.view.get() {
        None => {
            view! { <p class="muted" data-testid="cluster-loading">"Reading the cluster…"</p> }.into_any()
        }
        Some(v) => view! { <ClusterBody v cs/> }.into_any(),
    };
    // The controls sit outside the part each poll redraws: what was typed and what the last
    // call said stay.
    view! {
        {move || cs.error.get().map(|e| view! { <p class="error" role="alert" data-testid="cluster-error">{e}</p> })}
        {body}
        <AllNodes/>
    }
    .into_any()
}

/// Everything once a view has arrived.
#[component]
fn ClusterBody(v: ClusterInfo, cs: ClusterState) -> impl IntoView {
    let embedded = v.bus == "embedded";
    let rates = cs.rates.get_untracked();
    let rows = v.nodes.iter().map(|n| node_row(n, rates.get(&n.name).copied(), &v.node)).collect_view();
    let ledger_rows = v.nodes.iter().map(|n| ledger_row(&n.name, &n.counts, false)).collect_view();
    let balance = if v.balances { "balances" } else { "does not balance yet" };
    view! {
        <section class="panel" aria-label="This node">
            <h2>"You are on " <span data-testid="cluster-node">{v.node.clone()}</span></h2>
            <p class="muted" data-testid="cluster-bus">
                {if embedded { "Embedded: this process alone, no Redis.".to_string() } else { format!("{} nodes share the work through Redis.", v.nodes.len()) }}
            </p>
            {v.degraded.clone().map(|d| view! { <p class="error" role="alert" data-testid="cluster-degraded">{format!("Degraded: {d}")}</p> })}
        </section>
        <section class="panel" aria-label="Nodes">
            <h2>"Nodes"</h2>
            <table class="kinds">
                <thead><tr>
                    <th>"Node"</th><th>"Status, controls"</th><th class="num">"Heartbeat"</th><th class="num">"Events/s"</th>
                    <th class="num">"Pending"</th><th class="num">"Claimed"</th><th class="num">"Redelivered"</th>
                    <th class="num">"Duplicates"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
        <section class="panel" aria-label="Cluster ledger">
            <h2>"Cluster ledger"</h2>
            <table class="kinds">
                <thead><tr>
                    <th>"Node"</th><th class="num">"Published"</th><th class="num">"Processed"</th>
                    <th class="num">"Failed"</th><th class="num">"Dead-lettered"</th>
                </tr></thead>
                <tbody>
                    {ledger_rows}
                    {ledger_row("Total", &v.total, true)}
                </tbody>
            </table>
            <p data-testid="cluster-balance">
                {format!(
                    "published {} = finished {} + in flight {}: {balance}",
                    format::count(v.total.published),
                    format::count(v.total.finished()),
                    format::count(v.in_flight)
                )}
            </p>
        </section>
        <section class="panel" aria-label="Bus">
            <h2>"Bus"</h2>
            <table class="kinds"><tbody>
                <tr><td>"Mode"</td><td data-testid="bus-mode">{v.bus.clone()}</td></tr>
                <tr><td>"Redis"</td><td data-testid="bus-version">{v.redis_version.clone().unwrap_or_else(|| "—".into())}</td></tr>
                <tr><td>"Persistence"</td><td data-testid="bus-persistence">{v.persistence.clone().unwrap_or_else(|| "— (embedded: the dead-letter store is on disk)".into())}</td></tr>
                <tr><td>"Stream length"</td><td class="num">{format::count(v.stream_length)}</td></tr>
                <tr><td>"Pending (delivered, not acked)"</td><td class="num">{format::count(v.pending_entries)}</td></tr>
                <tr><td>"Lag (not yet delivered)"</td><td class="num">{v.lag_entries.map_or_else(|| "—".into(), format::count)}</td></tr>
                <tr><td>"Dead letters (one queue for every node)"</td><td class="num" data-testid="bus-dead-letters">{format::count(v.dead_letters)}</td></tr>
                <tr><td>"Broadcasts sent / received / dropped / gaps"</td><td class="num">{v.broadcast.map(format::count).join(" / ")}</td></tr>
                <tr><td>"Publishes lost (Redis unreachable)"</td><td class="num">{format::count(v.lost_publishes)}</td></tr>
                <tr><td>"Publishes refused (backlog full)"</td><td class="num">{format::count(v.refused_publishes)}</td></tr>
            </tbody></table>
        </section>
        <section class="panel" aria-label="Timeline">
            <h2>"Timeline"</h2>
            {move || {
                let items = cs.timeline.get();
                if items.is_empty() {
                    view! { <p class="muted">"Nothing has happened since this tab opened: joins, deaths and claims show here."</p> }.into_any()
                } else {
                    view! {
                        <ol class="timeline" data-testid="cluster-timeline">
                            {items.into_iter().map(|(at, what)| view! { <li><span class="muted">{at}</span>" "{what}</li> }).collect_view()}
                        </ol>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// Controls that apply to every node at once; each node's applied controls show in the nodes
/// table once its next heartbeat is read.
#[component]
fn AllNodes() -> impl IntoView {
    let control = Control::new();
    let said = control.said();
    let processors = RwSignal::new("2".to_string());
    let rate = RwSignal::new("500".to_string());
    let send = move |action: &'static str, value: Result<Option<u64>, String>| {
        control.run(value.map(|value| async move {
            let others = control_all(action.to_string(), value).await?;
            Ok(format!("Applied here and sent to {}.", counted(others, "other node")))
        }))
    };
    view! {
        <section class="panel" aria-label="Controls for every node">
            <h2>"Controls for every node"</h2>
            <div class="row">
                <button type="button" data-testid="all-pause" on:click=move |_| send("pause", Ok(None))>"Pause all"</button>
                <button type="button" data-testid="all-resume" on:click=move |_| send("resume", Ok(None))>"Resume all"</button>
            </div>
            <div class="row">
                <label for="all-processors">"Processors"</label>
                <input id="all-processors" type="text" inputmode="numeric" size="4" bind:value=processors/>
                <button type="button" data-testid="all-concurrency"
                    on:click=move |_| send("concurrency", whole(&processors.get(), "processors").map(Some))>"Apply to all"</button>
            </div>
            <div class="row">
                <label for="all-rate">"Rate limit"</label>
                <input id="all-rate" type="text" inputmode="numeric" size="8" bind:value=rate/>
                <span class="muted small">"msg/s"</span>
                <button type="button" data-testid="all-rate"
                    on:click=move |_| send("rate", whole(&rate.get(), "rate limit").map(Some))>"Apply to all"</button>
                <button type="button" class="secondary" data-testid="all-lift" on:click=move |_| send("lift", Ok(None))>"Lift"</button>
            </div>
            <Outcome testid="all-outcome" said/>
        </section>
    }
}

fn node_row(n: &ClusterNode, rate: Option<f64>, here: &str) -> impl IntoView + use<> {
    let status_class = match n.status.as_str() {
        "alive" => "tag tag-ok",
        "dead" => "tag tag-failed",
        _ => "tag tag-dropped",
    };
    let name = if n.name == here { format!("{} (this node)", n.name) } else { n.name.clone() };
    view! {
        <tr data-testid="cluster-node-row">
            <td>{name}</td>
            <td>
                <span class=status_class data-testid="node-status">{n.status.clone()}</span>
                <div class="muted small" data-testid="node-applied">{n.applied.clone().unwrap_or_default()}</div>
            </td>
            <td class="num">{n.heartbeat_age_ms.map_or_else(|| "—".into(), |ms| format!("{:.1} s ago", ms as f64 / 1000.0))}</td>
            <td class="num">{rate.map_or_else(|| "—".into(), |r| format::count(r.round() as u64))}</td>
            <td class="num">{format::count(n.pending_entries)}</td>
            <td class="num">{format::count(n.counts.claimed_entries)}</td>
            <td class="num">{format::count(n.counts.redelivered)}</td>
            <td class="num">{format::count(n.counts.duplicate_events)}</td>
        </tr>
    }
}

fn ledger_row(name: &str, c: &NodeCounts, total: bool) -> impl IntoView + use<> {
    view! {
        <tr class=if total { "total" } else { "" } data-testid=if total { "cluster-total" } else { "cluster-ledger-row" }>
            <td>{name.to_owned()}</td>
            <td class="num" data-testid="ledger-published">{format::count(c.published)}</td>
            <td class="num">{format::count(c.processed)}</td>
            <td class="num">{format::count(c.failed)}</td>
            <td class="num">{format::count(c.dead_lettered)}</td>
        </tr>
    }
}

/// Takes in a new view: the timeline learns what changed, the rates what was finished.
#[cfg(feature = "hydrate")]
fn apply(cs: ClusterState, now: ClusterInfo, interval_s: f64, at: String) {
    if let Some(before) = cs.view.get_untracked() {
        let events = cluster_events(&before, &now);
        if !events.is_empty() {
            cs.timeline.update(|t| {
                for e in events {
                    t.insert(0, (at.clone(), e.describe()));
                }
                t.truncate(TIMELINE);
            });
        }
        let rates = now
            .nodes
            .iter()
            .filter_map(|n| {
                let was = before.nodes.iter().find(|b| b.name == n.name)?;
                let done = n.counts.finished().saturating_sub(was.counts.finished());
                Some((n.name.clone(), done as f64 / interval_s.max(0.001)))
            })
            .collect();
        cs.rates.set(rates);
    }
    cs.error.set(None);
    cs.view.set(Some(now));
}

mod poll {
    use super::{ClusterState, DashState};

    /// Polls `get_cluster` once per refresh interval while the tab is shown (in the browser).
    pub(super) fn start(cs: ClusterState, state: DashState) {
        #[cfg(feature = "hydrate")]
        client(cs, state);
        #[cfg(not(feature = "hydrate"))]
        let _ = (cs, state);
    }

    #[cfg(feature = "hydrate")]
    fn client(cs: ClusterState, state: DashState) {
        use leptos::prelude::*;
        let alive = StoredValue::new(());
        leptos::task::spawn_local(async move {
            loop {
                let secs = state.refresh.get_untracked().max(1);
                let answer = super::get_cluster().await;
                if alive.try_get_value().is_none() {
                    return; // the tab went away
                }
                let at = js_sys::Date::new_0().to_locale_time_string("en-GB").as_string().unwrap_or_default();
                match answer {
                    Ok(view) => super::apply(cs, view, f64::from(secs), at),
                    Err(e) => cs.error.set(Some(format!("the cluster could not be read: {e}"))),
                }
                gloo_timers::future::sleep(std::time::Duration::from_secs(u64::from(secs))).await;
                if alive.try_get_value().is_none() {
                    return;
                }
            }
        });
    }
}
