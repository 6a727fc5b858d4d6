//! The telemetry contract: every event the engine emits, with its measurements, in one list.
//!
//! Stages emit [`Event`]s to the pipeline's built-in metrics (which feed the stats snapshot)
//! and then to every [`Observer`] given in `PipelineConfig::observers`, synchronously, on the
//! stage's own task. Events are emitted per chunk or per batch, never per message (a clock read
//! costs ~26 ns here): counts say how many messages an event covers, and latencies come as
//! [`LatencySample`]s grouping the messages published at the same instant.
//!
//! | event | when | measurements |
//! |---|---|---|
//! | `TopologyStarted` | every stage is running | the [`Topology`] |
//! | `ProducerDispatched` | a processor pulled messages from the producer (demand met) | processor, messages |
//! | `ProcessorStarted` | a processor starts on a chunk | processor, messages |
//! | `ProcessorStopped` | ... and is done with it | duration, successful, failed, publish→processed latency |
//! | `MessageCrashed` | `handle_message` / `prepare_messages` panicked (the exception) | processor, reason |
//! | `BatcherStarted` | a processor starts filing a chunk into a batcher | batcher, processor, messages |
//! | `BatcherStopped` | ... and has filed it into batches | batcher, processor, duration |
//! | `BatchFlushed` | a batcher handed a batch to a batch processor | batcher, processor, size, trigger |
//! | `BatchStarted` | a batch processor starts `handle_batch` | batcher, processor, size, trigger, key |
//! | `BatchStopped` | ... and is done | duration, successful, failed |
//! | `BatchCrashed` | `handle_batch` panicked (the exception) | reason, size |
//! | `MessagesAcked` | the acknowledger was called | stage, successful, failed, publish→ack latency |
//! | `MessagesRetried` | failed messages went back for another attempt (retry policy) instead of being acknowledged | stage, messages |
//! | `ConcurrencyChanged` | processor concurrency was changed at run time | from, to |
//! | `PauseChanged` | intake was paused or resumed | paused |
//! | `RateLimitChanged` | the rate limit was set, changed or lifted | allowed messages per interval, or none |
//! | `StageRestarted` | a stage task died (panic outside a handler, or killed) and was restarted | stage, reason, restarts so far |
//! | `DrainStarted` / `DrainFinished` | graceful shutdown began / ended | duration, messages abandoned at the timeout |
//!
//! Observers must be quick: they run inline on the stages. A panicking observer is isolated:
//! the panic is logged and the stage goes on (an observer bug must not stop the pipeline).

use super::stats::Topology;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Which stage an event comes from. Indices count from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StageId {
    Producer,
    Processor(usize),
    /// A batcher, by its position in `PipelineConfig::batchers`.
    Batcher(usize),
    /// One of a batcher's `concurrency` batch processors.
    BatchProcessor {
        batcher: usize,
        index: usize,
    },
}

impl fmt::Display for StageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StageId::Producer => write!(f, "producer"),
            StageId::Processor(i) => write!(f, "processor {i}"),
            StageId::Batcher(b) => write!(f, "batcher {b}"),
            StageId::BatchProcessor { batcher, index } => write!(f, "batch processor {batcher}.{index}"),
        }
    }
}

/// `count` messages that were published `latency` before the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencySample {
    pub latency: Duration,
    pub count: u32,
}

/// Why a batch was handed to its batch processor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchTrigger {
    /// It reached `batch_size`.
    Size,
    /// `batch_timeout` passed since its first message.
    Timeout,
    /// The pipeline is draining: partial batches are flushed.
    Drain,
}

/// One telemetry event; see the module table.
#[derive(Debug)]
pub enum Event<'a> {
    TopologyStarted {
        topology: &'a Topology,
    },
    ProducerDispatched {
        processor: usize,
        messages: usize,
    },
    ProcessorStarted {
        processor: usize,
        messages: usize,
    },
    ProcessorStopped {
        processor: usize,
        duration: Duration,
        successful: usize,
        failed: usize,
        latency: &'a [LatencySample],
    },
    MessageCrashed {
        processor: usize,
        reason: &'a str,
    },
    BatcherStarted {
        batcher: usize,
        processor: usize,
        messages: usize,
    },
    BatcherStopped {
        batcher: usize,
        processor: usize,
        duration: Duration,
    },
    BatchFlushed {
        batcher: usize,
        processor: usize,
        size: usize,
        trigger: BatchTrigger,
    },
    BatchStarted {
        batcher: usize,
        processor: usize,
        size: usize,
        trigger: BatchTrigger,
        key: &'a str,
    },
    BatchStopped {
        batcher: usize,
        processor: usize,
        duration: Duration,
        successful: usize,
        failed: usize,
    },
    BatchCrashed {
        batcher: usize,
        processor: usize,
        size: usize,
        reason: &'a str,
    },
    MessagesAcked {
        stage: StageId,
        successful: usize,
        failed: usize,
        latency: &'a [LatencySample],
    },
    MessagesRetried {
        stage: StageId,
        messages: usize,
    },
    ConcurrencyChanged {
        from: usize,
        to: usize,
    },
    PauseChanged {
        paused: bool,
    },
    RateLimitChanged {
        limit: Option<super::RateLimit>,
    },
    StageRestarted {
        stage: StageId,
        reason: &'a str,
        restarts: u64,
    },
    DrainStarted,
    DrainFinished {
        duration: Duration,
        abandoned: usize,
    },
}

/// Receives every event. Implement it to log, export or test what the engine does.
pub trait Observer: Send + Sync + 'static {
    fn on_event(&self, event: &Event<'_>);
}

/// What the stages emit through: the built-in metrics first, then the observers.
#[derive(Clone)]
pub(crate) struct Telemetry {
    pub metrics: Arc<super::metrics::Metrics>,
    pub observers: Arc<[Arc<dyn Observer>]>,
}

impl Telemetry {
    pub(crate) fn emit(&self, event: &Event<'_>) {
        self.metrics.record(event);
        for o in self.observers.iter() {
            if let Err(reason) = super::handler::isolate(|| o.on_event(event)) {
                tracing::error!("telemetry observer panicked on {event:?}: {reason}");
            }
        }
    }
}

/// Appends latency samples measured at `now` for `messages`, grouping those published at the
/// same instant. Messages of one published chunk share their instant and sit next to each
/// other, so groups stay few.
pub(crate) fn latency_samples<T>(
    now: std::time::Instant,
    messages: &[super::Message<T>],
    out: &mut Vec<LatencySample>,
) {
    let mut current: Option<(std::time::Instant, u32)> = None;
    for m in messages {
        match &mut current {
            Some((t, n)) if *t == m.published_at => *n += 1,
            _ => {
                if let Some((t, n)) = current.replace((m.published_at, 1)) {
                    out.push(LatencySample { latency: now.saturating_duration_since(t), count: n });
                }
            }
        }
    }
    if let Some((t, n)) = current {
        out.push(LatencySample { latency: now.saturating_duration_since(t), count: n });
    }
}
