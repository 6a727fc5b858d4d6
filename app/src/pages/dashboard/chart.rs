//! SVG charts drawn in the page, no chart library: a line chart per metric (one line per
//! column; counters as their increase per second) and a histogram for distributions. Points
//! come from the 1 s history rows, so the cost does not depend on the event rate.

pub use crate::components::short;
use crate::model::catalogue::{MetricDef, MetricKind, offset};
use crate::model::{HISTORY_ROWS, Row};
use leptos::prelude::*;
use std::collections::VecDeque;

const W: f64 = 300.0;
const H: f64 = 80.0;

/// One series per column of `def`, read from `rows` (counters become per-row increases).
pub fn series(def: &MetricDef, rows: &VecDeque<Row>) -> Vec<Vec<f64>> {
    let Some(at) = offset(def.id) else { return Vec::new() };
    let value = |r: &Row, c: usize| r.values.get(at + c).copied().unwrap_or(0.0);
    (0..def.columns.len())
        .map(|c| match def.kind {
            MetricKind::Counter => rows
                .iter()
                .zip(rows.iter().skip(1))
                .map(|(a, b)| (value(b, c) - value(a, c)).max(0.0))
                .collect(),
            _ => rows.iter().map(|r| value(r, c)).collect(),
        })
        .collect()
}

/// Rows the x axis spans at least: a young history fills a minute, not a sliver of 15.
const MIN_SPAN: usize = 60;

/// SVG `points` for `values`, newest at the right edge, scaled to `max`; the x axis spans the
/// values held (at least a minute, at most the 15 minutes kept).
pub fn polyline(values: &[f64], max: f64) -> String {
    crate::components::polyline(values, max, values.len().clamp(MIN_SPAN, HISTORY_ROWS), H)
}

/// The headline under a chart's title: latest values (a counter's total and last increase).
fn headline(def: &MetricDef, rows: &VecDeque<Row>) -> String {
    let Some(at) = offset(def.id) else { return String::new() };
    let Some(last) = rows.back() else { return "no data yet".into() };
    let v = |c: usize| last.values.get(at + c).copied().unwrap_or(0.0);
    match def.kind {
        MetricKind::Counter => {
            let prev = rows.iter().rev().nth(1).and_then(|r| r.values.get(at).copied()).unwrap_or(v(0));
            format!("{} {} total · +{}/s", short(v(0)), def.unit, short((v(0) - prev).max(0.0)))
        }
        MetricKind::Distribution => {
            let total: f64 = series(def, rows).iter().map(|s| s.iter().sum::<f64>()).sum();
            format!("{} in window", short(total))
        }
        _ => {
            def
            .columns
            .iter()
            .enumerate()
            .map(|(c, name)| {
                if def.columns.len() == 1 {
                    format!("{} {}", short(v(c)), def.unit)
                } else {
                    format!("{name} {}", short(v(c)))
                }
            })
            .collect::<Vec<_>>()
            .join(" · ")
            // Several columns share one unit: say it once, at the end.
            + &if def.columns.len() > 1 { format!(" {}", def.unit) } else { String::new() }
        }
    }
}

/// One metric's card: title, kind, headline and its chart.
#[component]
pub fn MetricChart(def: &'static MetricDef, rows: RwSignal<VecDeque<Row>>) -> impl IntoView {
    let body = move || {
        rows.with(|r| if def.kind == MetricKind::Distribution { histogram(def, r) } else { lines(def, r) })
    };
    view! {
        <figure class="chart" data-testid=format!("chart-{}", def.id) data-points=move || rows.with(VecDeque::len)>
            <figcaption>
                <span class="chart-title">{def.title}</span>
                <span class="chart-kind">{def.kind.label()}</span>
                <span class="chart-value" data-testid=format!("value-{}", def.id)>{move || rows.with(|r| headline(def, r))}</span>
            </figcaption>
            {body}
        </figure>
    }
    .into_any()
}

fn lines(def: &'static MetricDef, rows: &VecDeque<Row>) -> AnyView {
    let all = series(def, rows);
    let max = all.iter().flatten().fold(0.0_f64, |m, v| m.max(*v)).max(1e-9);
    let minutes = rows.len().div_ceil(60).max(1);
    let label = format!("{}: last {minutes} min, peak {} {}", def.title, short(max), def.unit);
    view! {
        <svg class="chart-svg" viewBox="0 0 300 80" preserveAspectRatio="none" role="img" aria-label=label>
            {all
                .iter()
                .enumerate()
                .map(|(c, s)| view! { <polyline class=format!("line line-{c}") points=polyline(s, max)/> })
                .collect_view()}
        </svg>
        <div class="chart-legend">
            <span>{format!("last {minutes} min · peak {}", short(max))}</span>
            {(def.columns.len() > 1)
                .then(|| def.columns.iter().enumerate().map(|(c, n)| view! { <span class=format!("key key-{c}")>{*n}</span> }).collect_view())}
        </div>
    }
    .into_any()
}

fn histogram(def: &'static MetricDef, rows: &VecDeque<Row>) -> AnyView {
    let totals: Vec<f64> = series(def, rows).iter().map(|s| s.iter().sum()).collect();
    let max = totals.iter().fold(0.0_f64, |m, v| m.max(*v)).max(1e-9);
    let bar = W / totals.len().max(1) as f64;
    view! {
        <svg class="chart-svg" viewBox="0 0 300 80" preserveAspectRatio="none" role="img" aria-label=format!("{}: histogram over the last {} min", def.title, rows.len().div_ceil(60).max(1))>
            {totals
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let h = t / max * (H - 2.0);
                    view! { <rect class="bar" x=format!("{:.1}", i as f64 * bar + 2.0) y=format!("{:.1}", H - h) width=format!("{:.1}", bar - 4.0) height=format!("{h:.1}")/> }
                })
                .collect_view()}
        </svg>
        <div class="chart-legend">
            {def.columns.iter().zip(&totals).map(|(n, t)| view! { <span>{format!("{n} {}: {}", def.unit, short(*t))}</span> }).collect_view()}
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalogue::CATALOGUE;

    fn rows(values: &[f64]) -> VecDeque<Row> {
        let width = crate::model::catalogue::row_width();
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Row { seq: i as u64 + 1, t_ms: 0, values: vec![*v; width] })
            .collect()
    }

    #[test]
    fn counters_chart_their_increase() {
        let def = CATALOGUE.iter().find(|m| m.id == "pipeline.processed").expect("in catalogue");
        assert_eq!(series(def, &rows(&[10.0, 15.0, 15.0, 30.0])), vec![vec![5.0, 0.0, 15.0]]);
    }

    #[test]
    fn a_summary_headline_names_its_unit_once() {
        let def = CATALOGUE.iter().find(|m| m.id == "pipeline.ack_latency").expect("in catalogue");
        assert_eq!(headline(def, &rows(&[1.0, 2_000.0])), "p50 2000 · p99 2000 · max 2000 µs");
    }

    #[test]
    fn summaries_have_a_series_per_column() {
        let def = CATALOGUE.iter().find(|m| m.id == "http.duration").expect("in catalogue");
        assert_eq!(series(def, &rows(&[1.0, 2.0])).len(), 3);
    }

    /// The points of an SVG `points` attribute, as numbers.
    fn points(p: &str) -> Vec<(f64, f64)> {
        p.split_whitespace()
            .map(|xy| {
                let (x, y) = xy.split_once(',').expect("x,y");
                (x.parse().expect("x"), y.parse().expect("y"))
            })
            .collect()
    }

    #[test]
    fn polyline_ends_at_the_right_edge_and_stays_in_the_box() {
        let p = polyline(&[0.0, 50.0, 100.0, 500.0], 100.0);
        let last = p.split_whitespace().last().expect("points");
        assert_eq!(last, "300.0,1.0");
        // Every point inside the viewBox (0 0 300 80), whatever the values and how many.
        let many: Vec<f64> = (0..HISTORY_ROWS + 40).map(|i| (i % 7) as f64 * 30.0 - 50.0).collect();
        for values in [&[0.0, 50.0, 100.0, 500.0][..], &[-5.0], &[1e12, 0.0], &many[..]] {
            let pts = points(&polyline(values, 100.0));
            assert_eq!(pts.len(), values.len());
            for (x, y) in pts {
                assert!((0.0..=W).contains(&x) && (0.0..=H).contains(&y), "({x}, {y}) outside 0 0 {W} {H}");
            }
        }
    }
}
