//! The batcher stage: files successful messages into batches by batch key, and hands a batch
//! to a batch processor when it reaches `batch_size`, when `batch_timeout` has passed since its
//! first message, or when the pipeline drains. Batches of one key always go to the same batch
//! processor, so one key's batches run one after another; batches of the default key go to
//! whichever batch processor has room.
//!
//! Processors file their messages themselves, under the batcher's lock, instead of sending
//! each chunk to a batcher task: measured here, that hand-off (a task wake per chunk) cost more
//! than the filing. The batcher's own task only watches deadlines and, once every processor
//! has finished, flushes what is left. Partial batches live in the shared [`Batcher`], so a
//! killed batcher task loses none of them.

use super::ack::{Acker, InFlight};
use super::message::{BatchKey, DEFAULT_BATCHER, Message};
use super::telemetry::{BatchTrigger, Event, StageId};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

/// How many recent batch keys a batcher shows in the topology view.
const KEYS_SHOWN: usize = 16;

/// FNV-1a: batch keys are short strings looked up once per chunk; SipHash's flood resistance
/// is not worth its cost here (a key only groups messages; the map never holds more than the
/// keys with a partial batch).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type KeyMap<V> = HashMap<BatchKey, V, BuildHasherDefault<Fnv>>;

/// A batch on its way to a batch processor.
pub(crate) struct Batch<T: Send + 'static> {
    pub messages: InFlight<T>,
    pub key: BatchKey,
    pub trigger: BatchTrigger,
}

/// A batch ready to go, with the batch processor it goes to.
pub(crate) struct Ready<T: Send + 'static> {
    pub batch: Batch<T>,
    pub processor: usize,
    pub to: mpsc::Sender<Batch<T>>,
}

struct Pending<T: Send + 'static> {
    batch: InFlight<T>,
    id: u64,
}

/// What the lock protects.
struct Filing<T: Send + 'static> {
    pending: KeyMap<Pending<T>>,
    /// Deadlines in creation order, which is also deadline order (one timeout per batcher).
    deadlines: VecDeque<(Instant, BatchKey, u64)>,
    next_id: u64,
    next_processor: usize,
    keys: Vec<String>,
    /// One sender per batch processor; emptied when the batcher ends.
    to_processors: Vec<mpsc::Sender<Batch<T>>>,
}

/// One named batcher, shared by the processors (which file into it) and its task.
pub(crate) struct Batcher<T: Send + 'static> {
    pub index: usize,
    batch_size: usize,
    batch_timeout: Duration,
    filing: Mutex<Filing<T>>,
    /// Batches the batcher's own task (timeouts, drain) has yet to hand over; kept here so a
    /// killed task's successor sends them.
    outbox: tokio::sync::Mutex<Vec<(usize, Ready<T>)>>,
    /// Told when a first deadline appears, and when the last processor finishes.
    wake: Notify,
    processors_left: AtomicUsize,
}

impl<T: Send + 'static> Batcher<T> {
    pub(crate) fn new(
        index: usize,
        batch_size: usize,
        batch_timeout: Duration,
        processors: usize,
        to_processors: Vec<mpsc::Sender<Batch<T>>>,
    ) -> Self {
        let filing = Filing {
            pending: KeyMap::default(),
            deadlines: VecDeque::new(),
            next_id: 0,
            next_processor: 0,
            keys: Vec::new(),
            to_processors,
        };
        Self {
            index,
            batch_size,
            batch_timeout,
            filing: Mutex::new(filing),
            outbox: tokio::sync::Mutex::new(Vec::new()),
            wake: Notify::new(),
            processors_left: AtomicUsize::new(processors),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Filing<T>> {
        self.filing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Recent batch keys, newest last.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.lock().keys.clone()
    }

    /// Files `messages` (all routed to this batcher); the batches that filled up go to `out`.
    pub(crate) fn file(
        &self,
        messages: &mut Vec<Message<T>>,
        acker: &Arc<Acker<T>>,
        out: &mut Vec<(usize, Ready<T>)>,
    ) {
        let mut f = self.lock();
        while let Some(key) = messages.first().map(|m| m.batch_key.clone()) {
            let first_deadline = f.deadlines.is_empty();
            let f = &mut *f;
            let pending = match f.pending.get_mut(&key) {
                Some(p) => p,
                None => {
                    let id = f.next_id;
                    f.next_id += 1;
                    f.deadlines.push_back((Instant::now() + self.batch_timeout, key.clone(), id));
                    remember(&mut f.keys, &key);
                    if first_deadline {
                        self.wake.notify_one();
                    }
                    let batch = InFlight::new(Vec::with_capacity(self.batch_size), acker.clone(), me(self));
                    f.pending.entry(key.clone()).or_insert(Pending { batch, id })
                }
            };
            // Move the leading run of messages with this key, up to a full batch, in one go.
            let room = self.batch_size - pending.batch.messages.len();
            let run = messages.iter().take(room).take_while(|m| m.same_key(&key)).count();
            pending.batch.messages.extend(messages.drain(..run));
            if pending.batch.messages.len() >= self.batch_size {
                out.extend(take(f, &key, BatchTrigger::Size).map(|r| (self.index, r)));
            }
        }
    }

    /// Called before a processor is added at run time: the drain now waits for it too.
    pub(crate) fn processor_started(&self) {
        self.processors_left.fetch_add(1, Ordering::AcqRel);
    }

    /// Called by a processor that has finished for good; the last one lets the batcher flush.
    pub(crate) fn processor_finished(&self) {
        if self.processors_left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake.notify_one();
        }
    }

    /// Drops every partial batch (their guards fail them) and the senders: only once the
    /// pipeline is torn down.
    pub(crate) fn abandon(&self) {
        if let Ok(mut outbox) = self.outbox.try_lock() {
            outbox.clear();
        }
        let mut f = self.lock();
        f.pending.clear();
        f.deadlines.clear();
        f.to_processors.clear();
    }
}

fn me<T: Send + 'static>(b: &Batcher<T>) -> StageId {
    StageId::Batcher(b.index)
}

fn remember(keys: &mut Vec<String>, key: &str) {
    if keys.last().is_some_and(|k| k == key) {
        return;
    }
    keys.retain(|k| k != key);
    keys.push(key.to_owned());
    if keys.len() > KEYS_SHOWN {
        keys.remove(0);
    }
}

/// Takes the pending batch of `key` out, with the batch processor it goes to.
fn take<T: Send + 'static>(f: &mut Filing<T>, key: &BatchKey, trigger: BatchTrigger) -> Option<Ready<T>> {
    let Pending { batch, .. } = f.pending.remove(key)?;
    let n = f.to_processors.len();
    let processor = if n <= 1 {
        0
    } else if key == DEFAULT_BATCHER {
        f.next_processor = (f.next_processor + 1) % n;
        let start = f.next_processor;
        (0..n).map(|i| (start + i) % n).find(|&i| f.to_processors[i].capacity() > 0).unwrap_or(start)
    } else {
        let mut h = Fnv::default();
        key.hash(&mut h);
        (h.finish() % n as u64) as usize
    };
    // No sender left (torn down): dropping the batch fails its messages.
    let to = f.to_processors.get(processor)?.clone();
    Some(Ready { batch: Batch { messages: batch, key: key.clone(), trigger }, processor, to })
}

/// Hands the batches in `outbox` to their batch processors in order, waiting for room
/// (back-pressure). A batch leaves the outbox only once its processor's inbox has a slot for
/// it (`reserve` first, then send), so a task killed while waiting leaves it in the outbox for
/// its successor: nothing is lost, nothing is failed.
pub(crate) async fn send<T: Send + 'static>(outbox: &mut Vec<(usize, Ready<T>)>, acker: &Acker<T>) {
    while let Some((_, first)) = outbox.first() {
        let to = first.to.clone();
        let permit = to.reserve().await;
        let (batcher, Ready { batch, processor, .. }) = outbox.remove(0);
        let Ok(permit) = permit else { continue }; // processor gone for good: the guard fails it
        let size = batch.messages.messages.len();
        acker.telemetry().emit(&Event::BatchFlushed { batcher, processor, size, trigger: batch.trigger });
        permit.send(batch);
    }
}

/// The batcher's task: flushes batches whose timeout has passed and, once every processor has
/// finished, everything left (trigger `Drain`); then lets its batch processors end.
pub(crate) async fn run<T: Send + 'static>(batcher: Arc<Batcher<T>>, acker: Arc<Acker<T>>) {
    let mut outbox = batcher.outbox.lock().await;
    send(&mut outbox, &acker).await; // what a killed predecessor left
    loop {
        let finished = batcher.processors_left.load(Ordering::Acquire) == 0;
        let (ready, next) = {
            let mut f = batcher.lock();
            let now = Instant::now();
            let mut ready = Vec::new();
            while let Some((at, key, id)) = f.deadlines.front().cloned() {
                if f.pending.get(&key).is_none_or(|p| p.id != id) {
                    f.deadlines.pop_front(); // flushed by size already
                } else if finished || at <= now {
                    f.deadlines.pop_front();
                    let trigger = if finished { BatchTrigger::Drain } else { BatchTrigger::Timeout };
                    ready.extend(take(&mut f, &key, trigger).map(|r| (batcher.index, r)));
                } else {
                    break;
                }
            }
            (ready, f.deadlines.front().map(|d| d.0))
        };
        outbox.extend(ready);
        send(&mut outbox, &acker).await;
        if finished {
            batcher.lock().to_processors.clear();
            return;
        }
        tokio::select! {
            () = sleep_until(next) => {}
            () = batcher.wake.notified() => {}
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
