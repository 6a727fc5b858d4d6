//! The drain order, in one place. On SIGTERM / Ctrl-C (or when a test cancels the token):
//!
//! 1. The shutdown token is cancelled: axum stops accepting connections and lets in-flight
//!    requests finish (a request that got 202 has had its events published); WebSocket streams
//!    send a close frame and end. Waited for at most `drain_timeout`.
//! 2. The pub/sub is closed: later publishes are refused (HTTP 503), nothing new enters.
//! 3. The pipeline drains in its own order (`pipeline::terminator`): the producer hands out
//!    what its subscription buffered, processors finish, batchers flush their partial
//!    batches, every message is acknowledged. Bounded by `drain_timeout`; past it, what is left
//!    is failed as "shutdown timeout", so the ledger still balances. The dead-letter queue then
//!    writes the last failures to disk; in redis mode the bus sends its last `XACK`s and
//!    leaves the cluster (heartbeat deleted: nothing of this node is claimed or redelivered);
//!    the pipeline's own runtime is shut down.
//! 4. The reporter publishes a final snapshot and stops; the final ledger is logged.

use crate::bus::RedisBus;
use crate::dead_letters::DeadLetterQueue;
use crate::live::Snapshots;
use crate::pipeline::Pipeline;
use crate::pubsub::PubSub;
use app::model::SensorReading;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A runtime owned by async code: dropping a tokio runtime inside another one panics, so this
/// shuts it down in the background when dropped (on the drain's path, or on an early error).
pub(crate) struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl OwnedRuntime {
    pub(crate) fn new(runtime: tokio::runtime::Runtime) -> Self {
        Self(Some(runtime))
    }

    pub(crate) fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.0.as_ref().map(tokio::runtime::Runtime::handle)
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The parts the drain touches, in the order it touches them.
pub(crate) struct Drain {
    pub(crate) http: tokio::task::JoinHandle<()>,
    pub(crate) pubsub: PubSub<SensorReading>,
    pub(crate) pipeline: Pipeline,
    /// The pipeline's own runtime: shut down once the pipeline has drained.
    pub(crate) pipeline_runtime: OwnedRuntime,
    /// Written to disk once the pipeline has acknowledged its last failures.
    pub(crate) dead_letters: DeadLetterQueue,
    pub(crate) drain_timeout: Duration,
    pub(crate) reporter_stop: CancellationToken,
    pub(crate) background: TaskTracker,
    pub(crate) snapshots: Snapshots,
    /// Redis mode: left once the pipeline drained (last acks, heartbeat deleted).
    pub(crate) bus: Option<RedisBus>,
}

impl Drain {
    /// Runs the drain once the shutdown token (step 1) has been cancelled.
    /// Returns the final ledger.
    pub(crate) async fn run(self) -> app::model::StatsSnapshot {
        tracing::info!("shutting down: finishing HTTP requests");
        match tokio::time::timeout(self.drain_timeout, self.http).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("HTTP server task failed: {e}"),
            Err(_) => {
                tracing::warn!("HTTP requests still open after {:?}; closing anyway", self.drain_timeout)
            }
        }
        tracing::info!("closing the pub/sub, draining the pipeline");
        self.pubsub.close();
        match self.pipeline.stop(self.drain_timeout).await {
            Ok(()) => tracing::info!("pipeline drained"),
            Err(e) => tracing::warn!("{e}"),
        }
        // The last failures were acknowledged during the drain: write them to disk.
        self.dead_letters.flush(self.drain_timeout).await;
        // Redis mode: every entry is acknowledged locally; send the last XACKs and leave.
        if let Some(bus) = &self.bus {
            bus.leave(self.drain_timeout).await;
        }
        // Every stage has ended; the runtime only holds idle workers now.
        drop(self.pipeline_runtime);
        self.reporter_stop.cancel();
        self.background.close();
        self.background.wait().await;
        let s = self.snapshots.now();
        tracing::info!(
            published = s.published,
            processed = s.processed,
            failed = s.failed,
            dropped = s.dropped,
            in_flight = s.in_flight,
            dead_letters_stored = s.dead_letters.stored,
            dead_letters_not_stored = s.dead_letters.not_stored,
            "final ledger"
        );
        s
    }
}
