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
//!
//! [`Teardown`] (step 4's "everything still held") lives here too, beside the order it serves.

use super::Message;
use super::ack::{Acker, SHUTDOWN_TIMEOUT};
use super::batch_processor::BatchProcessorState;
use super::batcher::Batcher;
use super::config::PipelineError;
use super::handle::Inner;
use super::processor::ProcessorState;
use super::producer::Producer;
use super::producer_stage::ProducerStage;
use super::telemetry::{Event, StageId};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

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

/// Fails whatever the stages still hold once their tasks are gone; returns how many.
pub(crate) trait Abandon: Send + Sync {
    /// From now on, drop guards fail what they hold as `"shutdown timeout"`.
    fn halt(&self);
    fn abandon(&self) -> BoxFuture<'_, u64>;
}

/// Every batch processor's state, by stage.
pub(crate) type BatchProcessors<T> = Vec<(StageId, Arc<Mutex<BatchProcessorState<T>>>)>;

/// The stage states, kept so the terminator can empty them after a timed-out drain.
pub(crate) struct Teardown<P: Producer> {
    acker: Arc<Acker<P::Data>>,
    producer: Arc<ProducerStage<P>>,
    processors: Vec<Arc<Mutex<ProcessorState<P::Data>>>>,
    batchers: Vec<Arc<Batcher<P::Data>>>,
    batch_processors: BatchProcessors<P::Data>,
}

impl<P: Producer> Teardown<P> {
    pub(crate) fn new(
        acker: Arc<Acker<P::Data>>,
        producer: Arc<ProducerStage<P>>,
        processors: Vec<Arc<Mutex<ProcessorState<P::Data>>>>,
        batchers: Vec<Arc<Batcher<P::Data>>>,
        batch_processors: BatchProcessors<P::Data>,
    ) -> Self {
        Self { acker, producer, processors, batchers, batch_processors }
    }
}

impl<P: Producer> Abandon for Teardown<P> {
    fn halt(&self) {
        self.acker.halt();
    }

    fn abandon(&self) -> BoxFuture<'_, u64> {
        Box::pin(async move {
            let before = self.acker.guarded();
            let left = {
                let mut source = self.producer.source();
                let mut left = source.producer.abandon();
                if let Some(r) = source.retries.as_mut() {
                    left.extend(r.take_all());
                }
                if let Some(p) = source.partitions.as_mut() {
                    left.extend(p.take_all());
                }
                left
            };
            let n = left.len() as u64;
            if n > 0 {
                let mut failed: Vec<Message<P::Data>> = left
                    .into_iter()
                    .map(|m| m.failed(SHUTDOWN_TIMEOUT, "still queued when the drain timed out"))
                    .collect();
                self.acker.ack(StageId::Producer, &mut [], &mut failed);
            }
            // Dropping what the channels and states hold fails it through the drop guards.
            for p in &self.processors {
                let mut p = p.lock().await;
                let p = &mut *p;
                p.held.messages.append(&mut p.waiting);
                p.held.abandon();
                p.outbox.clear();
            }
            for b in &self.batchers {
                b.abandon();
            }
            for (_, bp) in &self.batch_processors {
                let mut bp = bp.lock().await;
                while bp.batches.try_recv().is_ok() {}
            }
            n + self.acker.guarded() - before
        })
    }
}
