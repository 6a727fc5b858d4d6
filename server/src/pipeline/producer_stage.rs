//! The producer stage: the shared source processors pull from. A processor asks for up to N
//! messages and gets at most N: the producer never hands out more than was asked, and while
//! no processor asks, nothing is taken from the source, so back-pressure reaches it.
//!
//! Processors pull directly rather than through a producer task (measured: the extra hop and
//! demand message cost more than the work at small demands; see `cursor.md`). The source sits
//! behind a short std lock, never held across an await; a processor that finds nothing ready
//! sleeps on a [`Signal`], which the producer wakes (it is the waker the producer is polled
//! with) and which a processor that did get messages passes on to the next sleeper.

use super::Message;
use super::producer::Producer;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Wakes a processor sleeping on the source.
#[derive(Default)]
struct Signal {
    notify: Notify,
    sleepers: AtomicUsize,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.notify.notify_one();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.notify.notify_one();
    }
}

/// The producer with its drain state.
pub(crate) struct ProducerStage<P: Producer> {
    source: Mutex<Source<P>>,
    signal: Arc<Signal>,
    /// The waker the producer is always polled with: it wakes one sleeping processor.
    waker: Waker,
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
        let signal = Arc::new(Signal::default());
        Self {
            source: Mutex::new(Source { producer, drained: false, done: false }),
            waker: Waker::from(signal.clone()),
            signal,
            drain,
            draining,
        }
    }

    /// The source, to abandon what it holds after a timed-out drain.
    pub(crate) fn source(&self) -> MutexGuard<'_, Source<P>> {
        self.source.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Polls the producer once; `Ready(None)` once it has finished.
    fn poll(&self, demand: usize) -> Poll<Option<Vec<Message<P::Data>>>> {
        let mut source = self.source();
        if source.done {
            return Poll::Ready(None);
        }
        if !source.drained && self.draining.load(Ordering::Acquire) {
            source.producer.drain();
            source.drained = true;
        }
        let polled = source.producer.poll_produce(&mut Context::from_waker(&self.waker), demand);
        if let Poll::Ready(None) = polled {
            source.done = true;
            drop(source);
            // Every sleeper sees the end, and one about to sleep finds a permit.
            self.signal.notify.notify_waiters();
            self.signal.notify.notify_one();
        }
        polled
    }

    /// At least one and at most `demand` messages, waiting for them; `None` once the producer
    /// has finished. Cancel-safe: nothing is taken from the source unless returned.
    pub(crate) async fn pull(&self, demand: usize) -> Option<Vec<Message<P::Data>>> {
        loop {
            // Read before polling: if the drain begins after this, the token wakes us below.
            let draining = self.draining.load(Ordering::Acquire);
            if let Poll::Ready(pulled) = self.poll(demand) {
                // A full chunk suggests more is waiting: pass the wake-up on to a sleeper.
                // (A partial one means the source is empty: waking another is wasted work.)
                let full = pulled.as_ref().is_some_and(|p| p.len() >= demand);
                if full && self.signal.sleepers.load(Ordering::Relaxed) > 0 {
                    self.signal.notify.notify_one();
                }
                return pulled;
            }
            // tokio's channels also answer `Pending` when this task has used up its scheduling
            // budget, waking the (shared) waker at once: give the runtime its turn here, or
            // that wake would spin this loop forever.
            tokio::task::coop::consume_budget().await;
            // A wake that came between the poll and here left a permit: no wake-up is lost.
            self.signal.sleepers.fetch_add(1, Ordering::AcqRel);
            // Once the drain has begun (and the producer was told, in `poll`), only the
            // producer can wake this: the cancelled token would otherwise fire forever.
            tokio::select! {
                () = self.signal.notify.notified() => {}
                () = self.drain.cancelled(), if !draining => {}
            }
            self.signal.sleepers.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Up to `demand` messages if they are ready now: tops up a processor's demand while it
    /// still has work.
    pub(crate) fn try_pull(&self, demand: usize) -> Option<Vec<Message<P::Data>>> {
        match self.poll(demand) {
            Poll::Ready(pulled) => pulled,
            Poll::Pending => None,
        }
    }
}
