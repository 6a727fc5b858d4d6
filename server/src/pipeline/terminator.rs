//! The pipeline's drain order, in one place (Broadway's terminator):
//!
//! 1. `DrainStarted`; the drain token is cancelled. The producer stage calls
//!    [`Producer::drain`](super::Producer::drain): intake stops (the pub/sub producer closes its
//!    subscription), and what the producer buffered is still handed out on demand.
//! 2. When the producer has nothing more, the producer stage ends and drops its senders:
//!    each processor finishes the chunks it was sent, then ends and drops its senders.
//! 3. When every processor is gone, each batcher flushes its partial batches (trigger
//!    `Drain`) and ends; its batch processors handle and acknowledge the last batches, and end.
//! 4. If all this takes longer than the timeout: supervisors stop restarting, every stage task
//!    is aborted, and everything still held (producer buffer, channels, partial batches, chunks
//!    in the dead tasks) is failed as `"shutdown timeout"` and acknowledged. Nothing stays
//!    unaccounted for.
//! 5. `DrainFinished` with the duration and how many messages were abandoned.

use super::config::PipelineError;
use super::handle::Inner;
use super::telemetry::Event;
use std::time::{Duration, Instant};

pub(crate) async fn drain(inner: &Inner, timeout: Duration) -> Result<(), PipelineError> {
    let started = Instant::now();
    inner.telemetry.emit(&Event::DrainStarted);
    inner.draining.store(true, std::sync::atomic::Ordering::Release);
    inner.drain.cancel();
    if tokio::time::timeout(timeout, inner.tracker.wait()).await.is_ok() {
        inner.telemetry.emit(&Event::DrainFinished { duration: started.elapsed(), abandoned: 0 });
        return Ok(());
    }
    inner.halt.cancel();
    inner.teardown.halt();
    for (_, slot) in &inner.slots {
        slot.kill();
    }
    inner.tracker.wait().await;
    let abandoned = inner.teardown.abandon().await;
    inner
        .telemetry
        .emit(&Event::DrainFinished { duration: started.elapsed(), abandoned: abandoned as usize });
    tracing::warn!(abandoned, "pipeline did not drain within {timeout:?}");
    Err(PipelineError::DrainTimeout { timeout, abandoned })
}
