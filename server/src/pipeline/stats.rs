//! What [`Pipeline::stats`](super::Pipeline::stats) reports: the running topology, per-stage
//! counters, latency percentiles and the controls in force. The engine's own types: an
//! application maps them to whatever its UI shows.

use super::telemetry::StageId;
use super::{RateLimit, RetryPolicy};

/// The running topology: producer → processors → batchers → batch processors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topology {
    /// What the producer reads from, e.g. `"pub/sub: events"`.
    pub producer: String,
    pub processors: ProcessorsNode,
    pub batchers: Vec<BatcherNode>,
}

/// The processor group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessorsNode {
    /// Processors running now (changeable at run time).
    pub concurrency: u32,
    pub max_demand: u32,
    pub min_demand: u32,
    /// Most processors the concurrency can be raised to.
    pub max_concurrency: u32,
    /// Whether messages are partitioned by key across processors (in order per key).
    pub partitioned: bool,
}

/// One named batcher and its batch processors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatcherNode {
    pub name: String,
    pub batch_size: u32,
    pub batch_timeout_ms: u64,
    /// Batch processors behind it.
    pub concurrency: u32,
    /// Batch keys seen most recently (at most 16), newest last.
    pub keys: Vec<String>,
}

/// One stage's counters and gauges.
#[derive(Clone, Debug, PartialEq)]
pub struct StageStats {
    /// Which stage (batchers by their position in the topology).
    pub id: StageId,
    /// Messages the stage took in since start.
    pub received: u64,
    /// Messages it passed on successfully.
    pub successful: u64,
    /// Messages that failed in it.
    pub failed: u64,
    /// Messages taken in per second, over the last second.
    pub per_s: f64,
    /// Share of the last second spent working, in percent.
    pub busy_pct: f64,
    /// Messages waiting for this stage now.
    pub queue: u64,
    /// Times its task died and was restarted.
    pub restarts: u64,
    /// p99 of the time it took per chunk or batch, in microseconds (recent window).
    pub run_p99_us: f64,
}

/// Latency percentiles over a window, in microseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// The run-time controls as they are set now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ControlState {
    /// Intake paused: nothing leaves the producer.
    pub paused: bool,
    pub concurrency: u32,
    pub max_concurrency: u32,
    /// `None`: no rate limit.
    pub rate_limit: Option<RateLimit>,
    /// `None`: failures are final at once.
    pub retry: Option<RetryPolicy>,
}

/// Everything the pipeline reports about itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PipelineStats {
    pub topology: Topology,
    /// Running stages (processor slots not in use are left out).
    pub stages: Vec<StageStats>,
    /// Publish → end of `handle_message`.
    pub processed_latency: Percentiles,
    /// Publish → acknowledgement.
    pub ack_latency: Percentiles,
    /// Seconds the latency window spans (between 5 and 10).
    pub latency_window_s: u32,
    /// Stage restarts since start, all stages (processors no longer running included).
    pub restarts: u64,
    /// Failed attempts sent back for another one since start.
    pub retried: u64,
    /// Messages waiting for their retry back-off now.
    pub retry_pending: u64,
    pub controls: ControlState,
}
