//! The built-in consumer of the telemetry contract: per-stage counters and duration / latency
//! histograms, turned on demand into the [`PipelineStats`] the handle reports.
//!
//! Each stage writes only its own counters (cache-line aligned, so stages on different cores
//! do not share lines); queue depths are differences of a sender's and a receiver's counters.
//! Histograms are recorded per chunk or batch and folded, at each snapshot, into windows of
//! [`WINDOW`]: percentiles cover the last 5 to 10 seconds, and all-time totals are kept too.

use super::producer::Gauge;
use super::stats::{Percentiles, PipelineStats, StageStats, Topology};
use super::telemetry::{Event, StageId};
use super::window::{Windowed, histogram, nanos, percentiles, record, small};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a latency window lasts before it becomes the previous one.
pub(super) const WINDOW: Duration = Duration::from_secs(5);
/// Stage rates and busy ratios look this far back.
const RATE_WINDOW: Duration = Duration::from_secs(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a stage sent to one downstream stage (processors: filed into one batcher, with the
/// time that took: the batcher's work, counted where it happens so no two cores write one
/// counter). Padded to its own cache lines: neighbours are written by other cores.
#[repr(align(128))]
struct Downstream {
    sent: AtomicU64,
    filing_ns: AtomicU64,
    filing_run: Mutex<Histogram<u64>>,
}

/// One stage's counters; written by that stage only (a batcher's also by the processors).
#[repr(align(128))]
struct StageCounters {
    id: StageId,
    received: AtomicU64,
    successful: AtomicU64,
    failed: AtomicU64,
    busy_ns: AtomicU64,
    restarts: AtomicU64,
    /// Messages handed to each downstream stage (processors: filed into each batcher).
    down: Box<[Downstream]>,
    /// One lock for all three: an event records into them at once.
    hists: Mutex<Hists>,
}

/// A stage's distributions since the last snapshot.
struct Hists {
    /// Time per chunk or batch.
    run: Histogram<u64>,
    /// Publish→processed latency of the messages it handled (processors).
    processed: Histogram<u64>,
    /// Publish→ack latency of the messages it acknowledged.
    acked: Histogram<u64>,
}

impl StageCounters {
    fn new(id: StageId, downstream: usize) -> Self {
        Self {
            id,
            received: AtomicU64::new(0),
            successful: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            down: (0..downstream)
                .map(|_| Downstream {
                    sent: AtomicU64::new(0),
                    filing_ns: AtomicU64::new(0),
                    filing_run: Mutex::new(if matches!(id, StageId::Processor(_)) {
                        histogram()
                    } else {
                        small()
                    }),
                })
                .collect(),
            hists: Mutex::new(Hists { run: histogram(), processed: histogram(), acked: histogram() }),
        }
    }

    /// Adds to a counter several tasks write (a batcher's: processors and its own task).
    fn add(c: &AtomicU64, n: usize) {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Adds to a counter only one task writes (the stage's own; a restarted task starts only
    /// after the dead one is gone): a plain load and store, no locked read-modify-write.
    fn own(c: &AtomicU64, n: usize) {
        c.store(c.load(Ordering::Relaxed) + n as u64, Ordering::Relaxed);
    }

    /// Counts `d` as busy and records it as one run; returns the (held) histograms for more.
    fn ran(&self, d: Duration) -> MutexGuard<'_, Hists> {
        let ns = nanos(d);
        Self::own(&self.busy_ns, ns as usize);
        let mut h = lock(&self.hists);
        h.run.saturating_record(ns.max(1));
        h
    }
}

/// Reads a batcher's recent batch keys.
pub(crate) type KeysProbe = Box<dyn Fn() -> Vec<String> + Send + Sync>;

/// Snapshot-side state: windows and the last rate samples.
struct Window {
    rotated: Instant,
    runs: Vec<Windowed>,
    processed: Windowed,
    acked: Windowed,
    /// Per stage: (when, received, busy ns), spanning about [`RATE_WINDOW`].
    samples: Vec<std::collections::VecDeque<(Instant, u64, u64)>>,
}

/// The pipeline's built-in metrics.
pub(crate) struct Metrics {
    /// Processor slots (the most processors the pipeline may run).
    processors: usize,
    /// Processors running now (changes at run time); only these are listed.
    concurrency: std::sync::atomic::AtomicUsize,
    /// Messages queued for a retry since start.
    retried: AtomicU64,
    /// Slot of each batcher's first batch processor.
    batch_processor_base: Vec<usize>,
    stages: Box<[StageCounters]>,
    backlog: Option<Gauge>,
    topology: Topology,
    keys: Vec<KeysProbe>,
    window: Mutex<Window>,
}

impl Metrics {
    /// Counters for `topology`; `keys` are the batchers' recent-key lists.
    pub(crate) fn new(topology: Topology, backlog: Option<Gauge>, keys: Vec<KeysProbe>) -> Self {
        let p = topology.processors.max_concurrency.max(topology.processors.concurrency) as usize;
        let mut stages = vec![StageCounters::new(StageId::Producer, 0)];
        for i in 0..p {
            stages.push(StageCounters::new(StageId::Processor(i), topology.batchers.len()));
        }
        for (b, node) in topology.batchers.iter().enumerate() {
            stages.push(StageCounters::new(StageId::Batcher(b), node.concurrency as usize));
        }
        let mut batch_processor_base = Vec::new();
        for (b, node) in topology.batchers.iter().enumerate() {
            batch_processor_base.push(stages.len());
            for index in 0..node.concurrency as usize {
                stages.push(StageCounters::new(StageId::BatchProcessor { batcher: b, index }, 0));
            }
        }
        let window = Window {
            rotated: Instant::now(),
            runs: stages.iter().map(|_| Windowed::new()).collect(),
            processed: Windowed::new(),
            acked: Windowed::new(),
            samples: stages.iter().map(|_| Default::default()).collect(),
        };
        Self {
            processors: p,
            concurrency: std::sync::atomic::AtomicUsize::new(topology.processors.concurrency as usize),
            retried: AtomicU64::new(0),
            batch_processor_base,
            stages: stages.into_boxed_slice(),
            backlog,
            topology,
            keys,
            window: Mutex::new(window),
        }
    }

    fn slot(&self, stage: StageId) -> usize {
        match stage {
            StageId::Producer => 0,
            StageId::Processor(i) => 1 + i,
            StageId::Batcher(b) => 1 + self.processors + b,
            StageId::BatchProcessor { batcher, index } => self.batch_processor_base[batcher] + index,
        }
    }

    fn stage(&self, stage: StageId) -> &StageCounters {
        &self.stages[self.slot(stage)]
    }

    /// Folds one event into the counters.
    pub(crate) fn record(&self, event: &Event<'_>) {
        use StageCounters as C;
        match *event {
            // The producer's own counts are the sum of what processors pulled.
            Event::ProducerDispatched { processor, messages } => {
                C::own(&self.stage(StageId::Processor(processor)).received, messages);
            }
            Event::ProcessorStopped { processor, duration, successful, failed, latency } => {
                let c = self.stage(StageId::Processor(processor));
                C::own(&c.successful, successful);
                C::own(&c.failed, failed);
                record(&mut c.ran(duration).processed, latency);
            }
            Event::BatcherStarted { batcher, processor, messages } => {
                C::own(&self.stage(StageId::Processor(processor)).down[batcher].sent, messages);
            }
            Event::BatcherStopped { batcher, processor, duration } => {
                let d = &self.stage(StageId::Processor(processor)).down[batcher];
                let (busy, run) = (&d.filing_ns, &d.filing_run);
                let ns = nanos(duration);
                C::own(busy, ns as usize);
                lock(run).saturating_record(ns.max(1));
            }
            Event::BatchFlushed { batcher, processor, size, .. } => {
                let c = self.stage(StageId::Batcher(batcher));
                C::add(&c.successful, size);
                C::add(&c.down[processor].sent, size);
            }
            Event::BatchStarted { batcher, processor, size, .. } => {
                C::own(&self.stage(StageId::BatchProcessor { batcher, index: processor }).received, size);
            }
            Event::BatchStopped { batcher, processor, duration, successful, failed } => {
                let c = self.stage(StageId::BatchProcessor { batcher, index: processor });
                C::own(&c.successful, successful);
                C::own(&c.failed, failed);
                drop(c.ran(duration));
            }
            Event::MessagesAcked { stage, latency, .. } => {
                record(&mut lock(&self.stage(stage).hists).acked, latency)
            }
            Event::StageRestarted { stage, restarts, .. } => {
                self.stage(stage).restarts.store(restarts, Ordering::Relaxed);
            }
            Event::MessagesRetried { messages, .. } => C::add(&self.retried, messages),
            Event::ConcurrencyChanged { to, .. } => self.concurrency.store(to, Ordering::Relaxed),
            Event::TopologyStarted { .. }
            | Event::PauseChanged { .. }
            | Event::RateLimitChanged { .. }
            | Event::ProcessorStarted { .. }
            | Event::MessageCrashed { .. }
            | Event::BatchCrashed { .. }
            | Event::DrainStarted
            | Event::DrainFinished { .. } => {}
        }
    }

    /// Messages waiting for the stage in `slot`.
    fn queue(&self, slot: usize) -> u64 {
        let c = &self.stages[slot];
        match c.id {
            StageId::Producer => self.backlog.as_ref().map_or(0, |g| g()),
            // Pulled, not handled yet.
            StageId::Processor(_) => c
                .received
                .load(Ordering::Relaxed)
                .saturating_sub(c.successful.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed)),
            StageId::Batcher(b) => {
                let sent: u64 = self.stages[1..=self.processors]
                    .iter()
                    .map(|p| p.down[b].sent.load(Ordering::Relaxed))
                    .sum();
                sent.saturating_sub(c.successful.load(Ordering::Relaxed))
            }
            StageId::BatchProcessor { batcher: b, index } => {
                let batcher = &self.stages[1 + self.processors + b];
                batcher.down[index]
                    .sent
                    .load(Ordering::Relaxed)
                    .saturating_sub(c.received.load(Ordering::Relaxed))
            }
        }
    }

    /// Everything the UI shows about the pipeline, now.
    pub(crate) fn snapshot(&self) -> PipelineStats {
        let now = Instant::now();
        let mut w = lock(&self.window);
        let w = &mut *w;
        if now.duration_since(w.rotated) >= WINDOW {
            w.rotated = now;
            w.processed.rotate();
            w.acked.rotate();
            w.runs.iter_mut().for_each(Windowed::rotate);
        }
        let mut stages = Vec::with_capacity(self.stages.len());
        let pulled: u64 =
            self.stages[1..=self.processors].iter().map(|p| p.received.load(Ordering::Relaxed)).sum();
        let processors = &self.stages[1..=self.processors];
        let running = self.concurrency.load(Ordering::Relaxed);
        for (slot, c) in self.stages.iter().enumerate() {
            {
                let mut h = lock(&c.hists);
                w.runs[slot].absorb(&mut h.run);
                w.processed.absorb(&mut h.processed);
                w.acked.absorb(&mut h.acked);
            }
            let producer = c.id == StageId::Producer;
            let (received, busy) = match c.id {
                StageId::Producer => (pulled, 0),
                // A batcher's work is done by the processors filing into it.
                StageId::Batcher(b) => {
                    for p in processors {
                        w.runs[slot].absorb(&mut lock(&p.down[b].filing_run));
                    }
                    (
                        processors.iter().map(|p| p.down[b].sent.load(Ordering::Relaxed)).sum(),
                        processors.iter().map(|p| p.down[b].filing_ns.load(Ordering::Relaxed)).sum(),
                    )
                }
                _ => (c.received.load(Ordering::Relaxed), c.busy_ns.load(Ordering::Relaxed)),
            };
            let samples = &mut w.samples[slot];
            samples.push_back((now, received, busy));
            while samples.len() > 2 && now.duration_since(samples[1].0) >= RATE_WINDOW {
                samples.pop_front();
            }
            let (t0, r0, b0) = samples[0];
            let dt = now.duration_since(t0).as_secs_f64();
            let (per_s, busy_pct) = if dt > 0.0 {
                ((received - r0) as f64 / dt, ((busy - b0) as f64 / 1e9 / dt * 100.0).min(100.0))
            } else {
                (0.0, 0.0)
            };
            if matches!(c.id, StageId::Processor(i) if i >= running) {
                continue; // a processor slot not in use (its counts still add up above)
            }
            stages.push(StageStats {
                id: c.id,
                received,
                successful: if producer { pulled } else { c.successful.load(Ordering::Relaxed) },
                failed: c.failed.load(Ordering::Relaxed),
                per_s,
                busy_pct,
                queue: self.queue(slot),
                restarts: c.restarts.load(Ordering::Relaxed),
                run_p99_us: percentiles(&w.runs[slot].recent()).p99_us,
            });
        }
        PipelineStats {
            topology: self.topology(),
            // Every slot: a processor that stopped running keeps the restarts it had.
            restarts: self.stages.iter().map(|c| c.restarts.load(Ordering::Relaxed)).sum(),
            stages,
            processed_latency: percentiles(&w.processed.recent()),
            ack_latency: percentiles(&w.acked.recent()),
            latency_window_s: now.duration_since(w.rotated).as_secs() as u32 + WINDOW.as_secs() as u32,
            retried: self.retried.load(Ordering::Relaxed),
            ..PipelineStats::default()
        }
    }

    /// All-time publish→processed and publish→ack latency (for benchmarks and the final log).
    pub(crate) fn latency_totals(&self) -> (Percentiles, Percentiles) {
        let mut w = lock(&self.window);
        for c in self.stages.iter() {
            let mut h = lock(&c.hists);
            w.processed.absorb(&mut h.processed);
            w.acked.absorb(&mut h.acked);
        }
        (percentiles(&w.processed.total), percentiles(&w.acked.total))
    }

    /// The topology as built (batch keys as last seen).
    pub(crate) fn topology(&self) -> Topology {
        let mut topology = self.topology.clone();
        topology.processors.concurrency = self.concurrency.load(Ordering::Relaxed) as u32;
        for (node, keys) in topology.batchers.iter_mut().zip(&self.keys) {
            node.keys = keys();
        }
        topology
    }
}
