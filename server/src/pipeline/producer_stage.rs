//! The producer stage: the shared source processors pull from. A processor asks for up to N
//! messages and gets at most N: the producer never hands out more than was asked, and while
//! no processor asks, nothing is taken from the source, so back-pressure reaches it.
//!
//! Processors pull directly rather than through a producer task (measured: the extra hop and
//! demand message cost more than the work at small demands; see `cursor.md`). The source sits
//! behind a short std lock, never held across an await; a processor that finds nothing ready
//! sleeps on a [`Signal`], which the producer wakes (it is the waker the producer is polled
//! with) and which a processor that did get messages passes on to the next sleeper.
//!
//! Under the same lock live the run-time controls that decide what may leave: pause, the rate
//! limiter, messages waiting for a retry (handed out first once due) and, in a partitioned
//! pipeline, the per-processor queues. While draining, pause and rate limit no longer apply
//! and retries are due at once: a drain always ends.

use super::Message;
use super::partition::Partitions;
use super::producer::Producer;
use super::rate_limit::RateLimiter;
use super::retry::RetryQueue;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use tokio::sync::Notify;
use tokio::time::Instant;
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

/// Per processor slot: asked to retire (the concurrency went down), and its own wake-up
/// (its partition got messages, or it must see a control change).
pub(crate) struct Roster {
    pub retire: Box<[AtomicBool]>,
    wakes: Box<[Notify]>,
    /// Which processor slots have a task (running, or retiring and not gone yet). Changed
    /// only under this lock, by the scaler and by a retiring processor, so a retirement and
    /// its cancellation cannot cross.
    pub running: Mutex<Vec<bool>>,
}

impl Roster {
    /// A processor asked to retire confirms it is leaving; false if the retirement was called
    /// off meanwhile (it then carries on).
    pub(crate) fn confirm_retire(&self, me: usize) -> bool {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if self.retire[me].load(Ordering::Acquire) {
            running[me] = false;
            true
        } else {
            false
        }
    }
}

/// What a pull gives a processor.
pub(crate) enum Pulled<T> {
    Messages(Vec<Message<T>>),
    /// The producer has finished and nothing is left: the processor ends.
    Finished,
    /// The processor was asked to retire and holds nothing more here.
    Retire,
}

enum Polled<T> {
    Got(Vec<Message<T>>),
    Finished,
    Retire,
    /// Nothing now; try again when woken, or at this instant (rate limit, retry back-off).
    Wait(Option<Instant>),
}

/// What decides which messages may leave, besides demand.
pub(crate) struct Gates<T> {
    pub limiter: RateLimiter,
    pub retries: Option<RetryQueue<T>>,
    pub partitions: Option<Partitions<T>>,
}

/// The producer with its drain state and controls.
pub(crate) struct ProducerStage<P: Producer> {
    source: Mutex<Source<P>>,
    signal: Arc<Signal>,
    /// The waker the producer is always polled with: it wakes one sleeping processor.
    waker: Waker,
    drain: CancellationToken,
    /// Set (by the terminator) just before `drain` is cancelled: the hot path reads this
    /// instead of the token, whose `is_cancelled` takes a lock.
    draining: Arc<AtomicBool>,
    paused: AtomicBool,
    pub roster: Roster,
}

pub(crate) struct Source<P: Producer> {
    pub producer: P,
    drained: bool,
    pub done: bool,
    pub retries: Option<RetryQueue<P::Data>>,
    pub limiter: RateLimiter,
    pub partitions: Option<Partitions<P::Data>>,
    /// Pulls left before due retries are looked for again while the producer keeps up (a clock
    /// read per pull cost ~5 % of the pipeline's time; a retry waits a few pulls more).
    retry_skip: u8,
    /// The producer had nothing at the last poll: retries are looked for on every pull then.
    idle: bool,
}

/// Pulls between two looks for due retries while the producer has messages ready.
const RETRY_CHECK_EVERY: u8 = 16;

impl<P: Producer> ProducerStage<P> {
    pub(crate) fn new(
        producer: P,
        drain: CancellationToken,
        draining: Arc<AtomicBool>,
        slots: usize,
        controls: Gates<P::Data>,
    ) -> Self {
        let signal = Arc::new(Signal::default());
        let Gates { limiter, retries, partitions } = controls;
        Self {
            source: Mutex::new(Source {
                producer,
                drained: false,
                done: false,
                retries,
                limiter,
                partitions,
                retry_skip: 0,
                idle: true,
            }),
            waker: Waker::from(signal.clone()),
            signal,
            drain,
            draining,
            paused: AtomicBool::new(false),
            roster: Roster {
                retire: (0..slots).map(|_| AtomicBool::new(false)).collect(),
                wakes: (0..slots).map(|_| Notify::new()).collect(),
                running: Mutex::new(vec![false; slots]),
            },
        }
    }

    /// The source and its controls (never held across an await).
    pub(crate) fn source(&self) -> MutexGuard<'_, Source<P>> {
        self.source.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every processor: a control changed, or the end was reached.
    pub(crate) fn wake_all(&self) {
        self.signal.notify.notify_waiters();
        self.signal.notify.notify_one();
        for w in self.roster.wakes.iter() {
            w.notify_one();
        }
    }

    /// Wakes one processor: the producer may have something again.
    pub(crate) fn wake_one(&self) {
        self.signal.notify.notify_one();
    }

    /// Wakes processor `index` (asked to retire).
    pub(crate) fn wake(&self, index: usize) {
        if let Some(w) = self.roster.wakes.get(index) {
            w.notify_one();
        }
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
        if !paused {
            self.wake_all();
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Polls once for processor `me`.
    fn poll(&self, me: usize, demand: usize, draining: bool) -> Polled<P::Data> {
        let mut guard = self.source();
        let s = &mut *guard;
        if !s.drained && draining {
            s.producer.drain();
            s.drained = true;
        }
        if let Some(p) = &mut s.partitions {
            p.release(me);
            if p.try_remap() {
                self.wake_all();
            }
        }
        if self.roster.retire[me].load(Ordering::Acquire) && s.partitions.as_ref().is_none_or(|p| p.idle(me))
        {
            return Polled::Retire;
        }
        if !draining && self.paused.load(Ordering::Acquire) {
            return Polled::Wait(None);
        }
        let limit = if draining {
            demand
        } else {
            match s.limiter.allowance() {
                Ok(n) => demand.min(n),
                Err(next_window) => return Polled::Wait(Some(next_window)),
            }
        };
        let got = match s.partitions.is_some() {
            false => self.take(s, limit, draining),
            true => {
                let room = s.partitions.as_ref().map_or(0, Partitions::room);
                let incoming = if room > 0 { self.take(s, room, draining) } else { Vec::new() };
                let p = s.partitions.as_mut().expect("checked above");
                p.sort(incoming, |q| {
                    if q != me {
                        self.wake(q);
                    }
                });
                p.serve(me, limit)
            }
        };
        let retries_left = s.retries.as_ref().is_some_and(|r| !r.is_empty());
        if !got.is_empty() {
            s.limiter.spend(got.len());
            if s.done && !retries_left {
                self.wake_all(); // the end may be near: sleepers must see it
            }
            return Polled::Got(got);
        }
        let queued = s.partitions.as_ref().is_some_and(|p| !p.is_empty());
        if s.done && !retries_left && !queued {
            return Polled::Finished;
        }
        Polled::Wait(s.retries.as_ref().and_then(RetryQueue::next_due))
    }

    /// Up to `limit` messages: due retries first, then the producer's.
    fn take(&self, s: &mut Source<P>, limit: usize, draining: bool) -> Vec<Message<P::Data>> {
        let mut out = Vec::new();
        let look = draining || s.idle || s.done || s.retry_skip == 0;
        s.retry_skip = s.retry_skip.checked_sub(1).unwrap_or(RETRY_CHECK_EVERY - 1);
        if let Some(r) = s.retries.as_mut().filter(|r| look && !r.is_empty()) {
            r.take_due(Instant::now(), draining, limit, &mut out);
        }
        if out.len() < limit && !s.done {
            let polled = s.producer.poll_produce(&mut Context::from_waker(&self.waker), limit - out.len());
            s.idle = polled.is_pending();
            match polled {
                Poll::Ready(Some(more)) if out.is_empty() => out = more, // the producer's buffer as is
                Poll::Ready(Some(more)) => out.extend(more),
                Poll::Ready(None) => {
                    s.done = true;
                    self.wake_all();
                }
                Poll::Pending => {}
            }
        }
        out
    }

    /// At least one and at most `demand` messages for processor `me`, waiting for them.
    /// Cancel-safe: nothing is taken from the source unless returned.
    pub(crate) async fn pull(&self, me: usize, demand: usize) -> Pulled<P::Data> {
        loop {
            // Read before polling: if the drain begins after this, the token wakes us below.
            let draining = self.draining.load(Ordering::Acquire);
            let deadline = match self.poll(me, demand, draining) {
                Polled::Got(pulled) => {
                    // A full chunk suggests more is waiting: pass the wake-up on to a sleeper.
                    // (A partial one means the source is empty: waking another is wasted work.)
                    if pulled.len() >= demand && self.signal.sleepers.load(Ordering::Relaxed) > 0 {
                        self.signal.notify.notify_one();
                    }
                    return Pulled::Messages(pulled);
                }
                Polled::Finished => {
                    self.wake_all();
                    return Pulled::Finished;
                }
                Polled::Retire => return Pulled::Retire,
                Polled::Wait(deadline) => deadline,
            };
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
                () = self.roster.wakes[me].notified() => {}
                () = self.drain.cancelled(), if !draining => {}
                () = sleep_until(deadline) => {}
            }
            self.signal.sleepers.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Up to `demand` messages if they are ready now: tops up a processor's demand while it
    /// still has work.
    pub(crate) fn try_pull(&self, me: usize, demand: usize) -> Option<Vec<Message<P::Data>>> {
        match self.poll(me, demand, self.draining.load(Ordering::Acquire)) {
            Polled::Got(pulled) => Some(pulled),
            _ => None,
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Where the acknowledger sends failed messages that get another attempt.
pub(crate) trait RetrySink<T>: Send + Sync {
    /// Takes the messages out of `failed` that are queued for a retry.
    fn offer(&self, failed: &mut Vec<Message<T>>) -> usize;
}

impl<P: Producer> RetrySink<P::Data> for ProducerStage<P> {
    fn offer(&self, failed: &mut Vec<Message<P::Data>>) -> usize {
        let draining = self.draining.load(Ordering::Acquire);
        let mut s = self.source();
        // Once intake has finished, a processor may already have ended: no new retries.
        let done = s.done;
        let Some(r) = s.retries.as_mut().filter(|_| !done && !draining) else { return 0 };
        let (before, due) = (failed.len(), r.next_due());
        r.offer(failed, Instant::now());
        let queued = before - failed.len();
        if queued > 0 && r.next_due() != due {
            drop(s);
            self.wake_one(); // a sleeper re-reads the earliest due time
        }
        queued
    }
}
