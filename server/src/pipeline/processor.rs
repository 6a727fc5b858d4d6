//! The processor stage: asks the producer for messages, runs `handle_message` on each inside
//! panic isolation, acknowledges failures at once and forwards successes to the batcher.

use super::handler::panic_reason;
use super::producer::Demand;
use super::{Acknowledger, Handler, Message};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What one processor needs to run.
pub(crate) struct Processor<H: Handler> {
    pub handler: Arc<H>,
    pub acknowledger: Arc<dyn Acknowledger<H::Data>>,
    pub demands: mpsc::Sender<Demand<H::Data>>,
    pub to_batcher: mpsc::Sender<Vec<Message<H::Data>>>,
    pub max_demand: usize,
}

impl<H: Handler> Processor<H> {
    /// Asks for the next chunk; `None` once the producer has finished.
    async fn ask(&self) -> Option<oneshot::Receiver<Vec<Message<H::Data>>>> {
        let (reply, rx) = oneshot::channel();
        self.demands.send(Demand { n: self.max_demand, reply }).await.ok()?;
        Some(rx)
    }

    /// Runs until the producer has nothing more to hand out. Demand for the next chunk is sent
    /// before the current one is handled, so the producer prepares it meanwhile.
    pub(crate) async fn run(self) {
        let Some(mut pending) = self.ask().await else { return };
        while let Ok(chunk) = pending.await {
            let next = self.ask().await;
            if !self.handle(chunk).await {
                // The batcher is gone: only possible when the pipeline is torn down.
                break;
            }
            match next {
                Some(rx) => pending = rx,
                None => break,
            }
        }
    }

    /// Handles one chunk; returns false if the batcher is gone.
    async fn handle(&self, chunk: Vec<Message<H::Data>>) -> bool {
        let mut ok = Vec::with_capacity(chunk.len());
        let mut failed = Vec::new();
        for mut m in chunk {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.handler.handle_message(&mut m))) {
                m.fail("panic", panic_reason(payload.as_ref()));
            }
            if m.is_ok() { ok.push(m) } else { failed.push(m) }
        }
        if !failed.is_empty() {
            self.acknowledger.ack(&[], &failed);
        }
        if ok.is_empty() {
            return true;
        }
        match self.to_batcher.send(ok).await {
            Ok(()) => true,
            Err(mpsc::error::SendError(mut lost)) => {
                for m in &mut lost {
                    m.fail("no batcher", "the batcher stopped before this message was batched");
                }
                self.acknowledger.ack(&[], &lost);
                false
            }
        }
    }
}
