//! The stats snapshot: what `GET /api/stats` returns and what the WebSocket streams.

use super::{DeadLetterStats, Kind, PipelineStats, PubSubStats, SimulatorState};
use serde::{Deserialize, Serialize};

/// One consistent view of the pipeline's ledger and rates.
///
/// The ledger always satisfies `published = processed + failed + dropped + in_flight`; once the
/// pipeline is idle `in_flight` is 0, so every published message is accounted for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Messages accepted onto the `events` topic (HTTP ingest, server functions, demo publisher).
    pub published: u64,
    /// Messages that passed validation and were acknowledged after their batch was handled.
    pub processed: u64,
    /// Messages acknowledged as failed; `failure_reasons` says why.
    pub failed: u64,
    /// Messages that never entered the pipeline; `drop_reasons` says why.
    pub dropped: u64,
    /// Published but not yet acknowledged or dropped: queued or being worked on.
    pub in_flight: u64,
    /// Acknowledgements (processed + failed) per second over the last second.
    pub throughput_per_s: f64,
    /// Failed acknowledgements per second over the last second.
    pub failed_per_s: f64,
    /// Share of acknowledged messages that failed, in percent, since start.
    pub error_rate_pct: f64,
    /// Batches handled by the batcher since start.
    pub batches: u64,
    /// Milliseconds since the server started; also tells a viewer the stream is live.
    pub uptime_ms: u64,
    /// Per-kind aggregates of processed readings, as computed by the batcher.
    pub kinds: Vec<KindAggregate>,
    /// Failure counts by reason category, most frequent first.
    pub failure_reasons: Vec<ReasonCount>,
    /// Drop counts by reason, most frequent first.
    pub drop_reasons: Vec<ReasonCount>,
    /// The engine: topology, per-stage statistics, latency.
    pub pipeline: PipelineStats,
    /// The pub/sub: topics, subscribers, buffer fill and losses.
    pub pubsub: PubSubStats,
    /// The demo's simulated publisher.
    pub simulator: SimulatorState,
    /// The dead-letter queue's counts.
    pub dead_letters: DeadLetterStats,
}

/// Running aggregate of one kind's processed readings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindAggregate {
    pub kind: Kind,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub last: f64,
}

/// How many messages share one reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

impl StatsSnapshot {
    /// Whether the ledger adds up: every published message is processed, failed, dropped or
    /// still in flight.
    pub fn balances(&self) -> bool {
        self.published == self.processed + self.failed + self.dropped + self.in_flight
    }
}
