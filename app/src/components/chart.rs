//! A line chart drawn as SVG in the page (no chart library): the live page's throughput,
//! error-rate and latency over the last five minutes, newest at the right edge.

use crate::format::fixed;
use crate::model::LIVE_HISTORY_POINTS;
use leptos::prelude::*;

const W: f64 = 300.0;
const H: f64 = 90.0;

/// SVG `points` for `values` scaled to `max` in a 300 × `height` box, newest at the right edge;
/// the x axis spans `span` points (or all of them if more), so the chart's width means the same
/// time whatever has been recorded yet. Shared with the dashboard's charts.
pub fn polyline(values: &[f64], max: f64, span: usize, height: f64) -> String {
    let n = values.len();
    let step = W / (span.max(n).max(2) - 1) as f64;
    let mut out = String::with_capacity(n * 12);
    for (i, v) in values.iter().enumerate() {
        let x = W - (n - 1 - i) as f64 * step;
        let y = height - (v / max).clamp(0.0, 1.0) * (height - 2.0) - 1.0;
        out.push_str(&fixed(x, 1));
        out.push(',');
        out.push_str(&fixed(y, 1));
        out.push(' ');
    }
    out
}

/// A short human form: `12.3k`, `4.5M`, `0.25`.
pub fn short(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        fixed(x / 1e9, 1) + "G"
    } else if a >= 1e6 {
        fixed(x / 1e6, 1) + "M"
    } else if a >= 1e4 {
        fixed(x / 1e3, 1) + "k"
    } else if a >= 100.0 || x.fract() == 0.0 {
        fixed(x, 0)
    } else {
        fixed(x, 2)
    }
}

/// One line of a chart: its legend label and colour class (`line-0`…`line-2`).
pub type LineDef = (&'static str, &'static str);

/// A titled chart with one polyline per series, a headline (the latest values) and a legend.
/// `data-testid` is `chart-{id}`; the headline's is `value-{id}`.
#[component]
pub fn LineChart(
    id: &'static str,
    title: &'static str,
    unit: &'static str,
    lines: &'static [LineDef],
    series: Signal<Vec<Vec<f64>>>,
    headline: Signal<String>,
    /// The y axis reaches at least this (so a quiet chart does not magnify noise).
    #[prop(default = 1.0)]
    floor: f64,
) -> impl IntoView {
    let max = move || series.with(|all| all.iter().flatten().fold(floor, |m, v| m.max(*v)));
    let points = move || series.with(|s| s.first().map_or(0, Vec::len));
    let label = move || format!("{title}, last 5 minutes, peak {} {unit}", short(max()));
    view! {
        <figure class="chart live-chart" data-testid=format!("chart-{id}") data-points=points>
            <figcaption>
                <span class="chart-title">{title}</span>
                <span class="chart-value" data-testid=format!("value-{id}")>{headline}</span>
            </figcaption>
            <svg class="chart-svg" viewBox="0 0 300 90" preserveAspectRatio="none" role="img" aria-label=label>
                <line class="grid-line" x1="0" y1="45" x2="300" y2="45"/>
                {lines
                    .iter()
                    .enumerate()
                    .map(|(i, (_, class))| {
                        let pts = move || series.with(|s| s.get(i).map(|v| polyline(v, max(), LIVE_HISTORY_POINTS, H)).unwrap_or_default());
                        view! { <polyline class=*class points=pts/> }
                    })
                    .collect_view()}
            </svg>
            <div class="chart-legend">
                <span>"5 min ago"</span>
                {lines.iter().map(|(name, class)| view! { <span class=format!("key {class}")>{*name}</span> }).collect_view()}
                <span>{move || format!("peak {} {unit}", short(max()))}</span>
                <span class="legend-now">"now"</span>
            </div>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_point_is_at_the_right_edge_and_all_stay_in_the_box() {
        let p = polyline(&[0.0, 50.0, 100.0, 500.0], 100.0, 300, H);
        let pts: Vec<_> = p.split_whitespace().collect();
        assert_eq!(pts.last(), Some(&"300.0,1.0"));
        assert_eq!(pts.first(), Some(&"297.0,89.0"), "three steps of 300/299 left of the edge");
        assert!(pts.iter().all(|xy| !xy.contains('-')));
    }

    #[test]
    fn more_points_than_the_span_still_fit() {
        let values = vec![1.0; 400];
        let p = polyline(&values, 1.0, 300, H);
        assert!(p.starts_with("0.0,"), "{}", &p[..20]);
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(12_345.0), "12.3k");
        assert_eq!(short(3.0), "3");
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(2_500_000.0), "2.5M");
    }
}
