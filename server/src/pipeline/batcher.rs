//! The batcher stage: groups successful messages into batches of `batch_size`, or fewer when
//! `batch_timeout` passes since the batch's first message, runs `handle_batch` on each inside
//! panic isolation, and acknowledges the batch.

use super::handler::panic_reason;
use super::{Acknowledger, Handler, Message};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the batcher needs to run.
pub(crate) struct Batcher<H: Handler> {
    pub handler: Arc<H>,
    pub acknowledger: Arc<dyn Acknowledger<H::Data>>,
    pub from_processors: mpsc::Receiver<Vec<Message<H::Data>>>,
    pub batch_size: usize,
    pub batch_timeout: Duration,
    /// Called after each batch with its size: feeds the batch counter.
    pub on_batch: Arc<dyn Fn(usize) + Send + Sync>,
}

impl<H: Handler> Batcher<H> {
    /// Runs until every processor has gone, then flushes the partial batch.
    pub(crate) async fn run(mut self) {
        let mut batch: Vec<Message<H::Data>> = Vec::with_capacity(self.batch_size);
        let mut deadline: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                received = self.from_processors.recv() => match received {
                    Some(messages) => {
                        for m in messages {
                            if batch.is_empty() {
                                deadline = Some(Instant::now() + self.batch_timeout);
                            }
                            batch.push(m);
                            if batch.len() >= self.batch_size {
                                self.flush(&mut batch);
                                deadline = None;
                            }
                        }
                    }
                    None => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    self.flush(&mut batch);
                    deadline = None;
                }
            }
        }
        self.flush(&mut batch);
    }

    fn flush(&self, batch: &mut Vec<Message<H::Data>>) {
        if batch.is_empty() {
            return;
        }
        let mut messages = std::mem::replace(batch, Vec::with_capacity(self.batch_size));
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.handler.handle_batch(&mut messages))) {
            let reason = panic_reason(payload.as_ref());
            for m in &mut messages {
                m.fail("batch panic", reason.clone());
            }
        }
        (self.on_batch)(messages.len());
        if messages.iter().all(Message::is_ok) {
            self.acknowledger.ack(&messages, &[]);
        } else {
            let (ok, failed): (Vec<_>, Vec<_>) = messages.into_iter().partition(Message::is_ok);
            self.acknowledger.ack(&ok, &failed);
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
