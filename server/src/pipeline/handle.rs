//! [`Pipeline`]: the cheap-clone handle to a running pipeline. Stop it, kill a stage (to see the
//! supervisor at work), read its topology and statistics.

use super::config::PipelineError;
use super::controls::Controls;
use super::metrics::Metrics;
use super::stats::{ControlState, Percentiles, PipelineStats, Topology};
use super::supervisor::StageSlot;
use super::telemetry::{StageId, Telemetry};
use super::terminator::{self, Abandon};
use super::{RateLimit, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A running pipeline. Clones share it.
#[derive(Clone)]
pub struct Pipeline {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// Every stage's supervisor.
    pub tracker: TaskTracker,
    /// Cancelled to start the graceful drain.
    pub drain: CancellationToken,
    /// Set just before `drain` is cancelled (read on the hot path).
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Cancelled when the drain timed out: supervisors stop restarting.
    pub halt: CancellationToken,
    pub slots: Vec<(StageId, Arc<StageSlot>)>,
    pub metrics: Arc<Metrics>,
    pub telemetry: Telemetry,
    pub teardown: Box<dyn Abandon>,
    pub controls: Box<dyn Controls>,
}

impl Pipeline {
    /// Drains the pipeline (see `terminator`): stops intake, hands out what the producer
    /// buffered, finishes in-flight work, flushes partial batches, acknowledges everything,
    /// then ends. Past `timeout`, whatever is left is failed as `"shutdown timeout"` and
    /// acknowledged, and [`PipelineError::DrainTimeout`] says how many.
    pub async fn stop(&self, timeout: Duration) -> Result<(), PipelineError> {
        terminator::drain(&self.inner, timeout).await
    }

    /// Waits until every stage has ended (after [`Pipeline::stop`], or once a finite producer
    /// is exhausted).
    pub async fn finished(&self) {
        self.inner.tracker.wait().await;
    }

    /// Whether every stage has ended.
    pub fn is_finished(&self) -> bool {
        self.inner.tracker.is_empty()
    }

    /// Every stage that runs as a task now (processors, batchers, batch processors); the
    /// producer runs inside the processors that pull from it.
    pub fn stages(&self) -> Vec<StageId> {
        self.inner.slots.iter().filter(|(_, s)| s.is_running()).map(|(id, _)| *id).collect()
    }

    /// Processors running now.
    pub fn concurrency(&self) -> usize {
        self.inner.controls.concurrency()
    }

    /// Changes how many processors run, up or down (within 1..=`max_concurrency`), without
    /// restarting anything, losing or repeating a message (see `controls`). Returns the
    /// previous concurrency.
    pub fn set_concurrency(&self, concurrency: usize) -> Result<usize, PipelineError> {
        self.inner.controls.set_concurrency(concurrency)
    }

    /// Stops handing messages to processors; published messages wait in the producer's
    /// buffer (or meet its overflow policy). In-flight work finishes.
    pub fn pause(&self) -> Result<(), PipelineError> {
        self.inner.controls.set_paused(true)
    }

    /// Undoes [`Pipeline::pause`].
    pub fn resume(&self) -> Result<(), PipelineError> {
        self.inner.controls.set_paused(false)
    }

    pub fn is_paused(&self) -> bool {
        self.inner.controls.is_paused()
    }

    /// The rate limit in force (Broadway's `get_rate_limiting`).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.controls.rate_limit()
    }

    /// Sets, changes or (with `None`) lifts the rate limit (Broadway's
    /// `update_rate_limiting`); a new window starts at once.
    pub fn update_rate_limit(&self, limit: Option<RateLimit>) -> Result<(), PipelineError> {
        self.inner.controls.update_rate_limit(limit)
    }

    /// The retry policy, if any.
    pub fn retry_policy(&self) -> Option<RetryPolicy> {
        self.inner.controls.retry_policy()
    }

    /// Kills the stage's task outright, as a crash outside the handlers would: the messages it
    /// held fail (kind `"stage crashed"`) and the supervisor restarts it.
    pub fn kill(&self, stage: StageId) -> Result<(), PipelineError> {
        let (_, slot) = self
            .inner
            .slots
            .iter()
            .find(|(id, _)| *id == stage)
            .ok_or_else(|| PipelineError::NoSuchStage(stage.to_string()))?;
        if slot.kill() { Ok(()) } else { Err(PipelineError::NoSuchStage(format!("{stage} (not running)"))) }
    }

    /// Restarts of every stage since start.
    pub fn restarts(&self) -> u64 {
        self.inner.slots.iter().map(|(_, s)| s.restarts.load(std::sync::atomic::Ordering::Acquire)).sum()
    }

    /// The running topology, for drawing.
    pub fn topology(&self) -> Topology {
        self.inner.metrics.topology()
    }

    /// The run-time controls as they are set now.
    pub fn controls(&self) -> ControlState {
        self.inner.controls.view()
    }

    /// Per-stage statistics and recent latency percentiles, now.
    pub fn stats(&self) -> PipelineStats {
        let mut stats = self.inner.metrics.snapshot();
        stats.controls = self.inner.controls.view();
        stats.retry_pending = self.inner.controls.retry_pending() as u64;
        stats
    }

    /// All-time (publish→processed, publish→ack) latency percentiles.
    pub fn latency_totals(&self) -> (Percentiles, Percentiles) {
        self.inner.metrics.latency_totals()
    }
}
