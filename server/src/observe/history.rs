//! The dashboard's history: one row of every catalogue metric per second, in a ring of
//! [`HISTORY_ROWS`] (15 minutes), so a reload or a second visitor sees the past at once.
//! [`row_values`] is the one place that maps live figures onto catalogue columns.

use super::http::HttpSecond;
use super::ring::Ring;
use app::model::catalogue::{CATALOGUE, row_width};
use app::model::{HISTORY_ROWS, Row, StatsSnapshot};
use std::sync::Mutex;

/// Rows of the last 15 minutes.
#[derive(Debug)]
pub struct History {
    ring: Mutex<Ring<Row>>,
}

impl Default for History {
    fn default() -> Self {
        Self::new(HISTORY_ROWS)
    }
}

impl History {
    /// A history keeping `rows` rows.
    pub fn new(rows: usize) -> Self {
        Self { ring: Mutex::new(Ring::new(rows)) }
    }

    /// Appends a row of `values` stamped `t_ms` and returns its sequence number.
    pub fn push(&self, t_ms: u64, values: Vec<f64>) -> u64 {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let seq = ring.last_seq() + 1;
        ring.push(Row { seq, t_ms, values })
    }

    /// Rows after `since`, oldest first.
    pub fn after(&self, since: u64) -> Vec<Row> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.after(since).map(|(_, r)| r.clone()).collect()
    }

    /// Bytes the full ring takes: its rows' fixed part plus their values.
    pub fn full_size_bytes(&self) -> usize {
        let capacity = self.ring.lock().unwrap_or_else(|e| e.into_inner()).capacity();
        capacity * (std::mem::size_of::<Row>() + row_width() * std::mem::size_of::<f64>())
    }
}

/// WebSocket figures at a sample: (open, messages sent, bytes sent).
pub type SocketReading = (u64, u64, u64);

/// One row's values, in catalogue order, from the stats snapshot, the last second of HTTP
/// requests, and the WebSocket counters.
pub fn row_values(
    stats: &StatsSnapshot,
    http: &HttpSecond,
    http_total: (u64, u64, f64),
    ws: SocketReading,
) -> Vec<f64> {
    let mut values = Vec::with_capacity(row_width());
    let p = &stats.pipeline;
    let (requests, errors, seconds) = http_total;
    for m in CATALOGUE {
        let before = values.len();
        match m.id {
            "pipeline.processed" => values.push(stats.processed as f64),
            "pipeline.failed" => values.push(stats.failed as f64),
            "pipeline.throughput" => values.push(stats.throughput_per_s),
            "pipeline.in_flight" => values.push(stats.in_flight as f64),
            "pipeline.queue" => values.push(p.stages.iter().map(|s| s.queue).sum::<u64>() as f64),
            "pipeline.busiest" => values.push(p.stages.iter().map(|s| s.busy_pct).fold(0.0, f64::max)),
            "pipeline.ack_latency" => {
                values.extend([p.ack_latency.p50_us, p.ack_latency.p99_us, p.ack_latency.max_us]);
            }
            "pubsub.published" => values.push(stats.published as f64),
            "pubsub.dropped" => values.push(stats.dropped as f64),
            "pubsub.subscribers" => values.push(stats.pubsub.subscribers.len() as f64),
            "pubsub.buffered" => {
                values.push(stats.pubsub.subscribers.iter().map(|s| s.buffered).sum::<u64>() as f64)
            }
            "http.requests" => values.push(requests as f64),
            "http.errors" => values.push(errors as f64),
            "http.duration" => values.extend([http.min_ms, http.mean_ms(), http.max_ms]),
            "http.duration_sum" => values.push(seconds),
            "http.duration_hist" => values.extend(http.buckets.iter().map(|b| *b as f64)),
            "ws.connections" => values.push(ws.0 as f64),
            "ws.messages" => values.push(ws.1 as f64),
            "ws.bytes" => values.push(ws.2 as f64),
            _ => {}
        }
        // A metric the match does not know still gets its columns, as zeros.
        values.resize(before + m.columns.len(), 0.0);
    }
    // Three decimals are more than a chart shows, and keep the rows' JSON short.
    values.iter_mut().for_each(|v| *v = (*v * 1000.0).round() / 1000.0);
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::catalogue::offset;

    #[test]
    fn rows_have_every_column_in_catalogue_order() {
        let stats = StatsSnapshot { processed: 7, published: 9, ..Default::default() };
        let http = HttpSecond { requests: 2, min_ms: 1.0, max_ms: 3.0, sum_ms: 4.0, ..Default::default() };
        let v = row_values(&stats, &http, (10, 1, 0.5), (2, 30, 4000));
        assert_eq!(v.len(), row_width());
        let at = |id: &str| v[offset(id).expect("in catalogue")];
        assert_eq!(at("pipeline.processed"), 7.0);
        assert_eq!(at("pubsub.published"), 9.0);
        assert_eq!(at("http.requests"), 10.0);
        assert_eq!(v[offset("http.duration").expect("in catalogue") + 1], 2.0, "mean");
        assert_eq!(at("ws.bytes"), 4000.0);
        let odd = StatsSnapshot { throughput_per_s: 2.0 / 3.0, ..Default::default() };
        assert_eq!(
            row_values(&odd, &http, (0, 0, 0.0), (0, 0, 0))[offset("pipeline.throughput").expect("in")],
            0.667
        );
    }

    #[test]
    fn history_is_bounded_and_wraps() {
        let h = History::new(3);
        for i in 0..5 {
            h.push(i, vec![i as f64]);
        }
        let rows = h.after(0);
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(h.after(4).len(), 1);
        assert_eq!(h.full_size_bytes(), 3 * (std::mem::size_of::<Row>() + row_width() * 8));
    }
}
