//! The ledger counters and rates, as a grid of cards.

use super::Stats;
use crate::format;
use crate::model::StatsSnapshot;
use leptos::prelude::*;

/// One labelled number. `testid` lets end-to-end tests read the value without depending on
/// layout; the label is the accessible name.
#[component]
fn Stat(
    label: &'static str,
    testid: &'static str,
    value: Signal<String>,
    #[prop(optional)] unit: &'static str,
) -> impl IntoView {
    view! {
        <div class="stat" role="group" aria-label=label>
            <div class="stat-label">{label}</div>
            <div class="stat-value">
                <span data-testid=testid>{value}</span>
                <span class="stat-unit">{unit}</span>
            </div>
        </div>
    }
}

/// The ledger (published, processed, failed, dropped, in flight), the live rates and the
/// publish → ack latency; then the ledger's equation, checked live.
#[component]
pub fn Counters(stats: Stats) -> impl IntoView {
    let count = move |f: fn(&StatsSnapshot) -> u64| Signal::derive(move || format::count(stats.with(f)));
    let balanced = move || stats.with(StatsSnapshot::balances);
    view! {
        <section class="counters" aria-label="Pipeline counters">
            <Stat label="Published" testid="published" value=count(|s| s.published)/>
            <Stat label="Processed" testid="processed" value=count(|s| s.processed)/>
            <Stat label="Failed" testid="failed" value=count(|s| s.failed)/>
            <Stat label="Dropped" testid="dropped" value=count(|s| s.dropped)/>
            <Stat label="In flight" testid="in-flight" value=count(|s| s.in_flight)/>
            <Stat label="Throughput" testid="throughput" unit="msg/s"
                value=Signal::derive(move || format::rate(stats.with(|s| s.throughput_per_s)))/>
            <Stat label="Error rate" testid="error-rate" unit="%"
                value=Signal::derive(move || format::pct(stats.with(|s| s.error_rate_pct)))/>
            <Stat label="Latency p50" testid="latency-p50" unit="ms"
                value=Signal::derive(move || format::ms(stats.with(|s| s.pipeline.ack_latency.p50_us)))/>
            <Stat label="Latency p99" testid="latency-p99" unit="ms"
                value=Signal::derive(move || format::ms(stats.with(|s| s.pipeline.ack_latency.p99_us)))/>
        </section>
        <p class="ledger" data-testid="ledger" data-balanced=move || balanced().to_string() aria-label="Ledger">
            {move || stats.with(|s| format!(
                "{} published = {} processed + {} failed + {} dropped + {} in flight",
                format::count(s.published), format::count(s.processed), format::count(s.failed),
                format::count(s.dropped), format::count(s.in_flight),
            ))}
            <span class="ledger-mark">{move || if balanced() { " ✓ balanced" } else { " ✗ off" }}</span>
        </p>
    }
    .into_any()
}
