//! The producer stage: the shared source processors pull from. A processor asks for up to N
//! messages and gets at most N: the producer never hands out more than was asked, and while
//! no processor asks, nothing is taken from the source, so back-pressure reaches it.
//!
//! Processors pull directly, one at a time (an async lock around the producer), rather than
//! through a producer task: measured here, the extra task hop and demand message cost more
//! than the work itself at small demands (see `cursor.md`, key decisions).

use super::Message;
use super::producer::Producer;
use futures_util::FutureExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Mutex, MutexGuard};
use tokio_util::sync::CancellationToken;

/// Times a processor retries a busy producer before it waits in line: the other processor
/// usually holds it for well under a microsecond, and parking a task costs several.
const SPINS: usize = 256;

/// The producer with its drain state.
pub(crate) struct ProducerStage<P: Producer> {
    inner: Mutex<Source<P>>,
    drain: CancellationToken,
    /// Set (by the terminator) just before `drain` is cancelled: the hot path reads this
    /// instead of the token, whose `is_cancelled` takes a lock.
    draining: Arc<AtomicBool>,
}

pub(crate) struct Source<P> {
    pub producer: P,
    drained: bool,
    done: bool,
}

impl<P: Producer> ProducerStage<P> {
    pub(crate) fn new(producer: P, drain: CancellationToken, draining: Arc<AtomicBool>) -> Self {
        Self { inner: Mutex::new(Source { producer, drained: false, done: false }), drain, draining }
    }

    fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    async fn lock(&self) -> MutexGuard<'_, Source<P>> {
        for _ in 0..SPINS {
            if let Ok(source) = self.inner.try_lock() {
                return source;
            }
            std::hint::spin_loop();
        }
        self.inner.lock().await
    }

    /// At least one and at most `demand` messages, waiting for them; `None` once the producer
    /// has finished (for every processor).
    pub(crate) async fn pull(&self, demand: usize) -> Option<Vec<Message<P::Data>>> {
        let mut source = self.lock().await;
        let s = &mut *source;
        loop {
            if s.done {
                return None;
            }
            if !s.drained && self.draining() {
                s.producer.drain();
                s.drained = true;
            }
            // Biased towards the producer: the drain is only waited on (which registers a
            // waker, under a lock) when nothing can be produced right now.
            let produced = tokio::select! {
                biased;
                produced = s.producer.produce(demand) => produced,
                () = self.drain.cancelled(), if !s.drained => continue,
            };
            match produced {
                Some(messages) => return Some(messages),
                None => s.done = true,
            }
        }
    }

    /// Up to `demand` messages if they can be had without waiting (or another processor is
    /// pulling): used to top up a processor's demand while it still has work.
    pub(crate) fn try_pull(&self, demand: usize) -> Option<Vec<Message<P::Data>>> {
        let mut source = self.inner.try_lock().ok()?;
        if source.done || (!source.drained && self.draining()) {
            return None; // the blocking pull handles the end and the drain
        }
        // `produce` is cancel-safe, so dropping it unfinished loses nothing.
        source.producer.produce(demand).now_or_never().flatten()
    }

    /// The source, to abandon what it holds after a timed-out drain.
    pub(crate) async fn source(&self) -> tokio::sync::MutexGuard<'_, Source<P>> {
        self.inner.lock().await
    }
}
