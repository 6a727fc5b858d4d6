//! The batcher stage: files successful messages into batches by batch key, and hands a batch
//! to a batch processor when it reaches `batch_size`, when `batch_timeout` has passed since its
//! first message, or when the pipeline drains. Batches of one key always go to the same batch
//! processor, so one key's batches run one after another; batches of the default key go to
//! whichever batch processor has room.
//!
//! Partial batches and the chunk being filed live in [`BatcherState`], so a killed batcher
//! task loses none of them: the restarted task carries on.

use super::ack::{Acker, InFlight};
use super::message::{BatchKey, DEFAULT_BATCHER};
use super::telemetry::{BatchTrigger, Event, StageId};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

/// How many recent batch keys a batcher shows in the topology view.
const KEYS_SHOWN: usize = 16;

/// A batch on its way to a batch processor.
pub(crate) struct Batch<T: Send + 'static> {
    pub messages: InFlight<T>,
    pub key: BatchKey,
    pub trigger: BatchTrigger,
}

struct Pending<T: Send + 'static> {
    batch: InFlight<T>,
    id: u64,
}

/// What survives a restart of one batcher.
pub(crate) struct BatcherState<T: Send + 'static> {
    pub index: usize,
    pub batch_size: usize,
    pub batch_timeout: Duration,
    pub from_processors: mpsc::Receiver<InFlight<T>>,
    /// One sender per batch processor; cleared when the batcher ends.
    pub to_processors: Vec<mpsc::Sender<Batch<T>>>,
    /// Recent batch keys, for the topology view.
    pub keys: Arc<std::sync::Mutex<Vec<String>>>,
    /// The chunk being filed, in reverse order (filed from the back).
    incoming: Option<InFlight<T>>,
    pending: HashMap<BatchKey, Pending<T>>,
    /// Deadlines in creation order, which is also deadline order (one timeout per batcher).
    deadlines: VecDeque<(Instant, BatchKey, u64)>,
    next_id: u64,
    next_processor: usize,
}

impl<T: Send + 'static> BatcherState<T> {
    pub(crate) fn new(
        index: usize,
        batch_size: usize,
        batch_timeout: Duration,
        from_processors: mpsc::Receiver<InFlight<T>>,
        to_processors: Vec<mpsc::Sender<Batch<T>>>,
    ) -> Self {
        Self {
            index,
            batch_size,
            batch_timeout,
            from_processors,
            to_processors,
            keys: Arc::default(),
            incoming: None,
            pending: HashMap::new(),
            deadlines: VecDeque::new(),
            next_id: 0,
            next_processor: 0,
        }
    }

    /// Drops the chunk being filed and every partial batch (their guards fail them), and
    /// the senders: used only once the pipeline is torn down.
    pub(crate) fn abandon(&mut self) {
        self.incoming = None;
        self.pending.clear();
        self.deadlines.clear();
        while self.from_processors.try_recv().is_ok() {}
        self.to_processors.clear();
    }

    fn pending_len(&self) -> usize {
        self.pending.values().map(|p| p.batch.messages.len()).sum()
    }

    /// The earliest deadline still standing, forgetting those of batches already flushed.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some((at, key, id)) = self.deadlines.front() {
            if self.pending.get(key).is_some_and(|p| p.id == *id) {
                return Some(*at);
            }
            self.deadlines.pop_front();
        }
        None
    }

    fn remember_key(&self, key: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.last().is_some_and(|k| k == key) {
            return;
        }
        keys.retain(|k| k != key);
        keys.push(key.to_owned());
        if keys.len() > KEYS_SHOWN {
            keys.remove(0);
        }
    }
}

/// Runs (or resumes) one batcher until every processor is gone, then flushes what is left.
pub(crate) async fn run<T: Send + 'static>(state: Arc<Mutex<BatcherState<T>>>, acker: Arc<Acker<T>>) {
    let mut guard = state.lock_owned().await;
    let s = &mut *guard;
    let me = StageId::Batcher(s.index);
    loop {
        if s.incoming.is_some() {
            file(s, &acker).await;
            continue;
        }
        let deadline = s.next_deadline();
        tokio::select! {
            biased;
            chunk = s.from_processors.recv() => match chunk {
                Some(mut chunk) => {
                    acker.telemetry().emit(&Event::BatcherStarted { batcher: s.index, messages: chunk.messages.len() });
                    chunk.holder = me;
                    chunk.messages.reverse();
                    s.incoming = Some(chunk);
                }
                None => break,
            },
            () = sleep_until(deadline), if deadline.is_some() => {
                let now = Instant::now();
                while s.next_deadline().is_some_and(|at| at <= now) {
                    if let Some((_, key, _)) = s.deadlines.pop_front() {
                        flush(s, key, BatchTrigger::Timeout, &acker).await;
                    }
                }
            }
        }
    }
    while s.next_deadline().is_some() {
        if let Some((_, key, _)) = s.deadlines.pop_front() {
            flush(s, key, BatchTrigger::Drain, &acker).await;
        }
    }
    s.to_processors.clear();
}

/// Files the incoming chunk into pending batches, flushing the ones that fill up.
async fn file<T: Send + 'static>(s: &mut BatcherState<T>, acker: &Arc<Acker<T>>) {
    let started = std::time::Instant::now();
    while let Some(key) = s.incoming.as_ref().and_then(|c| c.messages.last()).map(|m| m.batch_key.clone()) {
        if !s.pending.contains_key(&key) {
            let id = s.next_id;
            s.next_id += 1;
            let batch =
                InFlight::new(Vec::with_capacity(s.batch_size), acker.clone(), StageId::Batcher(s.index));
            s.pending.insert(key.clone(), Pending { batch, id });
            s.deadlines.push_back((Instant::now() + s.batch_timeout, key.clone(), id));
            s.remember_key(&key);
        }
        let (Some(incoming), Some(pending)) = (s.incoming.as_mut(), s.pending.get_mut(&key)) else { break };
        // Move the run of messages with this key, up to a full batch.
        while pending.batch.messages.len() < s.batch_size {
            match incoming.messages.last() {
                Some(m) if m.batch_key == key => {
                    if let Some(m) = incoming.messages.pop() {
                        pending.batch.messages.push(m);
                    }
                }
                _ => break,
            }
        }
        if incoming.messages.is_empty() {
            s.incoming = None;
        }
        if pending.batch.messages.len() >= s.batch_size {
            flush(s, key, BatchTrigger::Size, acker).await;
        }
    }
    let pending = s.pending_len();
    let duration = started.elapsed();
    acker.telemetry().emit(&Event::BatcherStopped { batcher: s.index, duration, pending });
}

/// Hands the pending batch of `key` to its batch processor.
async fn flush<T: Send + 'static>(
    s: &mut BatcherState<T>,
    key: BatchKey,
    trigger: BatchTrigger,
    acker: &Acker<T>,
) {
    let Some(Pending { batch, .. }) = s.pending.remove(&key) else { return };
    let n = s.to_processors.len();
    if n == 0 {
        return; // dropping the batch fails its messages
    }
    let processor = if n == 1 {
        0
    } else if key == DEFAULT_BATCHER {
        s.next_processor = (s.next_processor + 1) % n;
        (0..n)
            .map(|i| (s.next_processor + i) % n)
            .find(|&i| s.to_processors[i].capacity() > 0)
            .unwrap_or(s.next_processor)
    } else {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        (h.finish() % n as u64) as usize
    };
    let size = batch.messages.len();
    acker.telemetry().emit(&Event::BatchFlushed { batcher: s.index, processor, size, trigger });
    // Held in the send future while the processor is busy: a kill here fails the batch.
    let _ = s.to_processors[processor].send(Batch { messages: batch, key, trigger }).await;
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
