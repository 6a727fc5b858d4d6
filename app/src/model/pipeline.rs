//! The pipeline as the UI sees it: its topology (what to draw) and per-stage statistics (what
//! to colour and label it with), plus publish→processed / publish→ack latency percentiles.

use serde::{Deserialize, Serialize};

/// The running topology: producer → processors → batchers → batch processors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    /// What the producer reads from, e.g. `"pub/sub: events"`.
    pub producer: String,
    pub processors: ProcessorsNode,
    pub batchers: Vec<BatcherNode>,
}

/// The processor group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatcherNode {
    pub name: String,
    pub batch_size: u32,
    pub batch_timeout_ms: u64,
    /// Batch processors behind it.
    pub concurrency: u32,
    /// Batch keys seen most recently (at most 16), newest last.
    pub keys: Vec<String>,
}

/// What a stage does, for grouping and drawing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageRole {
    #[default]
    Producer,
    Processor,
    Batcher,
    BatchProcessor,
}

/// Which stage: its role, and for batchers and batch processors the batcher's name. What the
/// UI keys rows by and what `kill_stage` takes: a stage is never found by parsing its label.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StageKey {
    pub role: StageRole,
    /// Processors and batch processors: which one (from 0); 0 otherwise.
    #[serde(default)]
    pub index: u32,
    /// Batchers and batch processors: the batcher's name.
    #[serde(default)]
    pub batcher: Option<String>,
}

impl StageKey {
    /// The stage's label, e.g. `"processor 0"`, `"batcher default"`, `"batch processor
    /// default.1"`: the one place a stage's name is written.
    pub fn label(&self) -> String {
        let batcher = self.batcher.as_deref().unwrap_or("?");
        match self.role {
            StageRole::Producer => "producer".to_owned(),
            StageRole::Processor => format!("processor {}", self.index),
            StageRole::Batcher => format!("batcher {batcher}"),
            StageRole::BatchProcessor => format!("batch processor {batcher}.{}", self.index),
        }
    }
}

/// One stage's counters and gauges.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageStats {
    pub stage: StageKey,
    /// The stage's label ([`StageKey::label`]), for display and metric labels.
    pub name: String,
    /// Messages the stage took in since start.
    pub received: u64,
    /// Messages it passed on successfully (processors: handled ok; batch processors: acked ok).
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

impl StageStats {
    /// What the stage does.
    pub fn role(&self) -> StageRole {
        self.stage.role
    }
}

/// Latency percentiles over a recent window, in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// The pipeline section of the stats snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineStats {
    pub topology: Topology,
    pub stages: Vec<StageStats>,
    /// Publish → end of `handle_message`.
    pub processed_latency: Percentiles,
    /// Publish → acknowledgement.
    pub ack_latency: Percentiles,
    /// Seconds the latency window spans (between 5 and 10).
    pub latency_window_s: u32,
    /// Stage restarts since start, all stages.
    pub restarts: u64,
    /// Failed attempts sent back for another one since start (retry policy).
    pub retried: u64,
    /// Messages waiting for their retry back-off now.
    pub retry_pending: u64,
    /// The run-time controls as they are set now.
    pub controls: PipelineControls,
}

/// What an operator can change while the pipeline runs, as it is now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineControls {
    /// Intake paused: nothing leaves the producer (published messages wait in its buffer).
    pub paused: bool,
    pub concurrency: u32,
    pub max_concurrency: u32,
    /// `None`: no rate limit.
    pub rate_limit: Option<RateLimitSetting>,
    /// `None`: failures are final at once.
    pub retry: Option<RetrySetting>,
}

/// At most `allowed_messages` per `interval_ms` leave the producer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitSetting {
    pub allowed_messages: u64,
    pub interval_ms: u64,
}

/// The retry policy in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrySetting {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Random share of each wait, 0..=1.
    pub jitter: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_has_one_label() {
        let key =
            |role, index, batcher: Option<&str>| StageKey { role, index, batcher: batcher.map(Into::into) };
        assert_eq!(key(StageRole::Producer, 0, None).label(), "producer");
        assert_eq!(key(StageRole::Processor, 3, None).label(), "processor 3");
        assert_eq!(key(StageRole::Batcher, 0, Some("default")).label(), "batcher default");
        assert_eq!(key(StageRole::BatchProcessor, 1, Some("default")).label(), "batch processor default.1");
    }
}
