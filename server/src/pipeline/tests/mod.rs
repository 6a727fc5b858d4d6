//! The engine's behaviour, grouped as Broadway's own suite is: one file per behaviour
//! (messages, producers and demand, back-pressure, processors, batchers, acknowledgement,
//! crashes, shutdown, telemetry, configuration) plus what Broadway lacks (run-time controls,
//! retries, partitions). This file holds what the groups share: a
//! handler assembled from closures, an observer that keeps every event, a gate that holds a
//! handler until the test opens it, and bounded waiting helpers.
//!
//! Rules every test keeps:
//! - every wait is bounded (at most [`WAIT`]); nothing loops without a deadline;
//! - a test waits for a precise condition (an exact count, a state), never for things to
//!   "settle" or for real time to pass;
//! - timeouts (batch timeouts, drain timeouts, restart backoff) run on paused tokio time;
//! - a handler that must block uses [`Gate`], which blocks through `block_in_place`: the
//!   blocked worker hands its queued tasks to another thread instead of stalling them (a task
//!   woken into a worker's LIFO slot cannot be stolen while that worker is blocked).

mod acknowledgement;
mod back_pressure;
mod batchers;
mod configuration;
mod controls;
mod crashes;
mod message;
mod partitions;
mod processors;
mod producers;
mod retries;
mod shutdown;
mod telemetry;

use crate::pipeline::Topology;
use crate::pipeline::testing::{Acked, Recorder, TEST_REF};
use crate::pipeline::{
    BatchInfo, BatchTrigger, BatcherConfig, Event, Handler, Message, Observer, PipelineConfig,
    ProcessorConfig, StageId,
};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The longest any test waits for anything.
const WAIT: Duration = Duration::from_secs(10);

/// The reference a tagged message carries: `"r{data}"`.
fn r(data: u64) -> String {
    format!("r{data}")
}

/// One message per item, each tagged with its own [`TEST_REF`], published at one instant.
fn tagged(data: impl IntoIterator<Item = u64>) -> Vec<Message<u64>> {
    let now = std::time::Instant::now();
    data.into_iter()
        .map(|d| {
            let mut m = Message::new(d, now);
            m.metadata.insert(TEST_REF, r(d));
            m
        })
        .collect()
}

/// Waits until every message of `data` has been acknowledged at least once.
async fn all_acked(recorder: &Recorder<u64>, data: impl IntoIterator<Item = u64>) {
    let refs: Vec<String> = data.into_iter().map(r).collect();
    let got = recorder.wait_for(&refs, WAIT).await;
    assert!(got.is_some(), "not every message was acknowledged within {WAIT:?}");
}

/// The one acknowledgement of each message of `data`; fails if one was acked 0 or 2+ times.
fn acked_once(recorder: &Recorder<u64>, data: impl IntoIterator<Item = u64>) -> Vec<Acked<u64>> {
    data.into_iter()
        .map(|d| {
            let mut acks = recorder.acks_of(&r(d));
            assert_eq!(acks.len(), 1, "message {d} was acknowledged {} times: {acks:?}", acks.len());
            acks.remove(0)
        })
        .collect()
}

/// Polls `cond` every millisecond (virtual time when paused) until it holds; fails after [`WAIT`].
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A pipeline shape: `concurrency` processors asking for `max_demand`, and `batchers`.
fn config(concurrency: usize, max_demand: usize, batchers: Vec<BatcherConfig>) -> PipelineConfig {
    PipelineConfig {
        processors: ProcessorConfig { concurrency, max_demand, ..ProcessorConfig::default() },
        batchers,
        ..PipelineConfig::default()
    }
}

/// A batcher with one batch processor.
fn batcher(name: &'static str, batch_size: usize, batch_timeout: Duration) -> BatcherConfig {
    BatcherConfig { name, batch_size, batch_timeout, concurrency: 1 }
}

/// Routes a message a handler holds by `&mut` with the by-value helpers
/// [`Message::put_batcher`] and [`Message::put_batch_key`].
fn route(m: &mut Message<u64>, batcher: &'static str, key: String) {
    let taken = std::mem::replace(m, Message::new(0, m.published_at));
    *m = taken.put_batcher(batcher).put_batch_key(key);
}

/// The data of `messages`, in order.
fn data_of(messages: &[Message<u64>]) -> Vec<u64> {
    messages.iter().map(|m| m.data).collect()
}

/// The status kind of an acknowledgement: `"ok"` or the failure's kind.
fn kind(acked: &Acked<u64>) -> &'static str {
    failure(&acked.status).map_or("ok", |(kind, _)| kind)
}

/// The kind and reason of a failed status.
fn failure(status: &crate::pipeline::Status) -> Option<(&'static str, &str)> {
    match status {
        crate::pipeline::Status::Ok => None,
        crate::pipeline::Status::Failed(f) => Some((f.kind, f.reason.as_str())),
    }
}

type OnMessages = Box<dyn Fn(&mut [Message<u64>]) + Send + Sync>;
type OnMessage = Box<dyn Fn(&mut Message<u64>) + Send + Sync>;
type PartitionBy = Box<dyn Fn(&Message<u64>) -> u64 + Send + Sync>;
type OnBatch = Box<dyn Fn(&mut [Message<u64>], &BatchInfo<'_>) + Send + Sync>;

/// A handler assembled from closures, so each test states only the callbacks it cares about.
#[derive(Default)]
struct Script {
    prepare: Option<OnMessages>,
    message: Option<OnMessage>,
    batch: Option<OnBatch>,
    failed: Option<OnMessages>,
    partition: Option<PartitionBy>,
}

impl Script {
    fn new() -> Self {
        Self::default()
    }

    fn prepare(mut self, f: impl Fn(&mut [Message<u64>]) + Send + Sync + 'static) -> Self {
        self.prepare = Some(Box::new(f));
        self
    }

    fn message(mut self, f: impl Fn(&mut Message<u64>) + Send + Sync + 'static) -> Self {
        self.message = Some(Box::new(f));
        self
    }

    fn batch(mut self, f: impl Fn(&mut [Message<u64>], &BatchInfo<'_>) + Send + Sync + 'static) -> Self {
        self.batch = Some(Box::new(f));
        self
    }

    fn failed(mut self, f: impl Fn(&mut [Message<u64>]) + Send + Sync + 'static) -> Self {
        self.failed = Some(Box::new(f));
        self
    }

    fn partition(mut self, f: impl Fn(&Message<u64>) -> u64 + Send + Sync + 'static) -> Self {
        self.partition = Some(Box::new(f));
        self
    }
}

impl Handler for Script {
    type Data = u64;

    fn prepare_messages(&self, messages: &mut [Message<u64>]) {
        if let Some(f) = &self.prepare {
            f(messages);
        }
    }

    fn handle_message(&self, message: &mut Message<u64>) {
        if let Some(f) = &self.message {
            f(message);
        }
    }

    fn handle_batch(&self, batch: &mut [Message<u64>], info: &BatchInfo<'_>) {
        if let Some(f) = &self.batch {
            f(batch, info);
        }
    }

    fn handle_failed(&self, messages: &mut [Message<u64>]) {
        if let Some(f) = &self.failed {
            f(messages);
        }
    }

    fn partition_by(&self, message: &Message<u64>) -> u64 {
        self.partition.as_ref().map_or(0, |f| f(message))
    }
}

/// An owned copy of a telemetry [`Event`]; latency samples are kept as their total count.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    TopologyStarted(Topology),
    ProducerDispatched { processor: usize, messages: usize },
    ProcessorStarted { processor: usize, messages: usize },
    ProcessorStopped { processor: usize, successful: usize, failed: usize, latency_count: u64 },
    MessageCrashed { processor: usize, reason: String },
    BatcherStarted { batcher: usize, messages: usize },
    BatcherStopped { batcher: usize },
    BatchFlushed { batcher: usize, processor: usize, size: usize, trigger: BatchTrigger },
    BatchStarted { batcher: usize, processor: usize, size: usize, trigger: BatchTrigger, key: String },
    BatchStopped { batcher: usize, processor: usize, successful: usize, failed: usize },
    BatchCrashed { batcher: usize, processor: usize, size: usize, reason: String },
    MessagesAcked { stage: StageId, successful: usize, failed: usize, latency_count: u64 },
    StageRestarted { stage: StageId, reason: String, restarts: u64 },
    MessagesRetried { messages: usize },
    ConcurrencyChanged { from: usize, to: usize },
    Control,
    DrainStarted,
    DrainFinished { abandoned: usize },
}

/// An observer that keeps every event it is told, in order.
#[derive(Default)]
struct Events {
    seen: Mutex<Vec<Seen>>,
}

impl Events {
    /// `config` with this observer added.
    fn observe(self: &std::sync::Arc<Self>, mut config: PipelineConfig) -> PipelineConfig {
        config.observers.push(self.clone());
        config
    }

    fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The events `pick` maps to something, in order.
    fn pick<T>(&self, pick: impl FnMut(&Seen) -> Option<T>) -> Vec<T> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).iter().filter_map(pick).collect()
    }
}

impl Observer for Events {
    fn on_event(&self, event: &Event<'_>) {
        use Event as E;
        let total =
            |l: &[crate::pipeline::telemetry::LatencySample]| l.iter().map(|s| u64::from(s.count)).sum();
        let seen = match *event {
            E::TopologyStarted { topology, .. } => Seen::TopologyStarted(topology.clone()),
            E::ProducerDispatched { processor, messages, .. } => {
                Seen::ProducerDispatched { processor, messages }
            }
            E::ProcessorStarted { processor, messages, .. } => Seen::ProcessorStarted { processor, messages },
            E::ProcessorStopped { processor, successful, failed, latency, .. } => {
                Seen::ProcessorStopped { processor, successful, failed, latency_count: total(latency) }
            }
            E::MessageCrashed { processor, reason, .. } => {
                Seen::MessageCrashed { processor, reason: reason.to_owned() }
            }
            E::BatcherStarted { batcher, messages, .. } => Seen::BatcherStarted { batcher, messages },
            E::BatcherStopped { batcher, .. } => Seen::BatcherStopped { batcher },
            E::BatchFlushed { batcher, processor, size, trigger, .. } => {
                Seen::BatchFlushed { batcher, processor, size, trigger }
            }
            E::BatchStarted { batcher, processor, size, trigger, key, .. } => {
                Seen::BatchStarted { batcher, processor, size, trigger, key: key.to_owned() }
            }
            E::BatchStopped { batcher, processor, successful, failed, .. } => {
                Seen::BatchStopped { batcher, processor, successful, failed }
            }
            E::BatchCrashed { batcher, processor, size, reason, .. } => {
                Seen::BatchCrashed { batcher, processor, size, reason: reason.to_owned() }
            }
            E::MessagesAcked { stage, successful, failed, latency, .. } => {
                Seen::MessagesAcked { stage, successful, failed, latency_count: total(latency) }
            }
            E::StageRestarted { stage, reason, restarts, .. } => {
                Seen::StageRestarted { stage, reason: reason.to_owned(), restarts }
            }
            E::MessagesRetried { messages, .. } => Seen::MessagesRetried { messages },
            E::ConcurrencyChanged { from, to } => Seen::ConcurrencyChanged { from, to },
            E::PauseChanged { .. } | E::RateLimitChanged { .. } => Seen::Control,
            E::DrainStarted => Seen::DrainStarted,
            E::DrainFinished { abandoned, .. } => Seen::DrainFinished { abandoned },
        };
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
    }
}

/// Holds the handlers that pass it until the test opens it, or [`WAIT`] passes (so a failing
/// test cannot hang). Blocks through `block_in_place`: only on a multi-thread runtime.
#[derive(Default)]
struct Gate {
    /// Open, and how many callers are held now.
    state: Mutex<(bool, usize)>,
    changed: Condvar,
}

impl Gate {
    /// Blocks the calling stage until the gate is open.
    fn pass(&self) {
        tokio::task::block_in_place(|| {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.1 += 1;
            let (mut s, _) =
                self.changed.wait_timeout_while(s, WAIT, |s| !s.0).unwrap_or_else(|e| e.into_inner());
            s.1 -= 1;
        });
    }

    fn open(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 = true;
        self.changed.notify_all();
    }

    /// Callers held at the gate now.
    fn held(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}
