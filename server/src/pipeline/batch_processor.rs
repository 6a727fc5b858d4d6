//! The batch processor stage: runs `handle_batch` on each batch inside panic isolation, then
//! acknowledges it: successful messages as successful, failed ones (after `handle_failed`) as
//! failed. This is where a message's life ends.

use super::Handler;
use super::ack::Acker;
use super::batcher::Batch;
use super::handler::{BatchInfo, isolate};
use super::telemetry::{Event, StageId};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Mutex, mpsc};

/// What survives a restart of one batch processor.
pub(crate) struct BatchProcessorState<T: Send + 'static> {
    pub batcher: usize,
    pub batcher_name: &'static str,
    pub index: usize,
    pub batches: mpsc::Receiver<Batch<T>>,
}

/// Runs (or resumes) one batch processor until its batcher has ended.
pub(crate) async fn run<H: Handler>(
    state: Arc<Mutex<BatchProcessorState<H::Data>>>,
    handler: Arc<H>,
    acker: Arc<Acker<H::Data>>,
) {
    let mut guard = state.lock_owned().await;
    let s = &mut *guard;
    let me = StageId::BatchProcessor { batcher: s.batcher, index: s.index };
    let telemetry = acker.telemetry();
    while let Some(Batch { messages: mut batch, key, trigger }) = s.batches.recv().await {
        batch.holder = me;
        let started = Instant::now();
        let size = batch.messages.len();
        let (batcher, processor) = (s.batcher, s.index);
        telemetry.emit(&Event::BatchStarted { batcher, processor, size, trigger, key: &key });
        let info = BatchInfo { batcher: s.batcher_name, batch_key: &key, size, trigger };
        if let Err(reason) = isolate(|| handler.handle_batch(&mut batch.messages, &info)) {
            telemetry.emit(&Event::BatchCrashed { batcher, processor, size, reason: &reason });
            for m in batch.messages.iter_mut().filter(|m| m.is_ok()) {
                m.fail("batch panic", reason.clone());
            }
        }
        let mut ok = batch.take();
        // Only the failed ones move; the rest close up in place. Nothing awaits from here to
        // the acknowledgement, so the messages cannot be lost in between.
        let mut failed: Vec<_> = ok.extract_if(.., |m| !m.is_ok()).collect();
        if !failed.is_empty() {
            let _ = isolate(|| handler.handle_failed(&mut failed));
        }
        let (successful, failed_n) = (ok.len(), failed.len());
        acker.ack(me, &mut ok, &mut failed);
        let duration = started.elapsed();
        telemetry.emit(&Event::BatchStopped { batcher, processor, duration, successful, failed: failed_n });
    }
}
