//! The metric catalogue: every metric the dashboard charts, its area, kind, unit and columns.
//! The server fills history rows in this order and the page reads them back by the same
//! offsets, so the list lives here, compiled into both.

use serde::{Deserialize, Serialize};

/// Which part of Pulse a metric describes; the Metrics tab groups charts by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Area {
    Pipeline,
    PubSub,
    Http,
    WebSocket,
}

impl Area {
    /// Every area, in the order the tab shows them.
    pub const ALL: [Area; 4] = [Area::Pipeline, Area::PubSub, Area::Http, Area::WebSocket];

    /// The section heading.
    pub fn label(self) -> &'static str {
        match self {
            Area::Pipeline => "Pipeline",
            Area::PubSub => "Pub/sub",
            Area::Http => "HTTP",
            Area::WebSocket => "WebSocket",
        }
    }
}

/// How a metric's values are read and charted (LiveDashboard's metric types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricKind {
    /// A running count; charted as its increase per row.
    Counter,
    /// A running sum of measurements; charted as the sum itself.
    Sum,
    /// A gauge; charted as sampled.
    LastValue,
    /// Several statistics of the second's measurements, one line each.
    Summary,
    /// Measurements per bucket in each second; charted as a histogram over the window.
    Distribution,
}

impl MetricKind {
    /// The label shown on a chart.
    pub fn label(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Sum => "sum",
            MetricKind::LastValue => "last value",
            MetricKind::Summary => "summary",
            MetricKind::Distribution => "distribution",
        }
    }
}

/// One charted metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// Stable identifier, also the chart's test id (`pipeline.processed`).
    pub id: &'static str,
    pub title: &'static str,
    pub area: Area,
    pub kind: MetricKind,
    pub unit: &'static str,
    /// Column labels: one for single-valued kinds, the statistics of a summary, the bucket
    /// upper bounds of a distribution.
    pub columns: &'static [&'static str],
}

const ONE: &[&str] = &["value"];

/// Bucket upper bounds of the HTTP duration distribution, milliseconds (last is +Inf).
pub const HTTP_BUCKETS_MS: [f64; 5] = [1.0, 5.0, 25.0, 100.0, 500.0];

/// The catalogue, in row order.
pub const CATALOGUE: &[MetricDef] = &[
    def("pipeline.processed", "Processed", Area::Pipeline, MetricKind::Counter, "msg", ONE),
    def("pipeline.failed", "Failed", Area::Pipeline, MetricKind::Counter, "msg", ONE),
    def("pipeline.throughput", "Throughput", Area::Pipeline, MetricKind::LastValue, "msg/s", ONE),
    def("pipeline.in_flight", "In flight", Area::Pipeline, MetricKind::LastValue, "msg", ONE),
    def("pipeline.queue", "Queued in stages", Area::Pipeline, MetricKind::LastValue, "msg", ONE),
    def("pipeline.busiest", "Busiest stage", Area::Pipeline, MetricKind::LastValue, "%", ONE),
    def(
        "pipeline.ack_latency",
        "Publish → ack latency",
        Area::Pipeline,
        MetricKind::Summary,
        "µs",
        &["p50", "p99", "max"],
    ),
    def("pubsub.published", "Published", Area::PubSub, MetricKind::Counter, "msg", ONE),
    def("pubsub.dropped", "Dropped", Area::PubSub, MetricKind::Counter, "msg", ONE),
    def("pubsub.subscribers", "Subscribers", Area::PubSub, MetricKind::LastValue, "", ONE),
    def("pubsub.buffered", "Buffered", Area::PubSub, MetricKind::LastValue, "msg", ONE),
    def("http.requests", "Requests", Area::Http, MetricKind::Counter, "req", ONE),
    def("http.errors", "Error responses (4xx, 5xx)", Area::Http, MetricKind::Counter, "req", ONE),
    def("http.duration", "Request duration", Area::Http, MetricKind::Summary, "ms", &["min", "mean", "max"]),
    def("http.duration_sum", "Time serving", Area::Http, MetricKind::Sum, "s", ONE),
    def(
        "http.duration_hist",
        "Request duration",
        Area::Http,
        MetricKind::Distribution,
        "ms",
        &["≤1", "≤5", "≤25", "≤100", "≤500", ">500"],
    ),
    def("ws.connections", "Open sockets", Area::WebSocket, MetricKind::LastValue, "", ONE),
    def("ws.messages", "Messages sent", Area::WebSocket, MetricKind::Counter, "msg", ONE),
    def("ws.bytes", "Bytes sent", Area::WebSocket, MetricKind::Sum, "B", ONE),
];

const fn def(
    id: &'static str,
    title: &'static str,
    area: Area,
    kind: MetricKind,
    unit: &'static str,
    columns: &'static [&'static str],
) -> MetricDef {
    MetricDef { id, title, area, kind, unit, columns }
}

/// Values in one row: the sum of every metric's columns.
pub fn row_width() -> usize {
    CATALOGUE.iter().map(|m| m.columns.len()).sum()
}

/// Where metric `id`'s columns start in a row, if it is in the catalogue.
pub fn offset(id: &str) -> Option<usize> {
    let mut at = 0;
    for m in CATALOGUE {
        if m.id == id {
            return Some(at);
        }
        at += m.columns.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_columns() {
        assert_eq!(offset("pipeline.processed"), Some(0));
        assert_eq!(offset("pipeline.failed"), Some(1));
        let summary = offset("pipeline.ack_latency").expect("in catalogue");
        assert_eq!(offset("pubsub.published"), Some(summary + 3));
        assert_eq!(offset("nope"), None);
        let last = CATALOGUE.last().expect("not empty");
        assert_eq!(offset(last.id).map(|o| o + last.columns.len()), Some(row_width()));
    }

    #[test]
    fn ids_are_unique_and_every_kind_and_area_is_used() {
        for (i, m) in CATALOGUE.iter().enumerate() {
            assert!(CATALOGUE[i + 1..].iter().all(|n| n.id != m.id), "{} twice", m.id);
        }
        for area in Area::ALL {
            assert!(CATALOGUE.iter().any(|m| m.area == area));
        }
        for kind in [
            MetricKind::Counter,
            MetricKind::Sum,
            MetricKind::LastValue,
            MetricKind::Summary,
            MetricKind::Distribution,
        ] {
            assert!(CATALOGUE.iter().any(|m| m.kind == kind));
        }
        let hist = CATALOGUE.iter().find(|m| m.kind == MetricKind::Distribution).expect("one");
        assert_eq!(hist.columns.len(), HTTP_BUCKETS_MS.len() + 1);
    }
}
