//! The live page's three charts over the last five minutes, from the per-second history
//! points: throughput (processed and failed per second), error rate, and publish → ack latency.

use super::chart::{LineChart, LineDef, short};
use crate::format;
use crate::model::{LiveModel, LivePoint};
use leptos::prelude::*;

const THROUGHPUT: &[LineDef] = &[("processed/s", "line-0"), ("failed/s", "line-2")];
const ERRORS: &[LineDef] = &[("failed %", "line-2")];
const LATENCY: &[LineDef] = &[("p50", "line-0"), ("p99", "line-1")];

/// Builds one series per `pick`, one value per history point.
fn series(model: RwSignal<LiveModel>, picks: &'static [fn(&LivePoint) -> f64]) -> Signal<Vec<Vec<f64>>> {
    Signal::derive(move || {
        model.with(|m| picks.iter().map(|pick| m.history.iter().map(pick).collect()).collect())
    })
}

/// Throughput, error-rate and latency charts.
#[component]
pub fn LiveCharts(model: RwSignal<LiveModel>) -> impl IntoView {
    let throughput = series(model, &[|p| p.per_s(p.processed), |p| p.per_s(p.failed)]);
    let errors = series(model, &[LivePoint::error_pct]);
    let latency = series(model, &[|p| p.p50_us / 1000.0, |p| p.p99_us / 1000.0]);
    let last = move |f: fn(&LivePoint) -> String| {
        Signal::derive(move || {
            model.with(|m| m.history.back().map_or_else(|| "waiting for a second…".into(), f))
        })
    };
    view! {
        <section class="live-charts" aria-label="Charts of the last five minutes">
            <LineChart id="throughput" title="Throughput" unit="msg/s" lines=THROUGHPUT series=throughput
                headline=last(|p| format!("{} ok · {} failed /s", short(p.per_s(p.processed)), short(p.per_s(p.failed))))/>
            <LineChart id="error-rate" title="Error rate" unit="%" lines=ERRORS series=errors
                headline=last(|p| format!("{} %", format::pct(p.error_pct()))) floor=5.0/>
            <LineChart id="latency" title="Publish → ack latency" unit="ms" lines=LATENCY series=latency
                headline=last(|p| format!("p50 {} · p99 {} ms", short(p.p50_us / 1000.0), short(p.p99_us / 1000.0)))
                floor=0.1/>
        </section>
    }
    .into_any()
}
