//! Builds a pipeline: validates the config, creates every stage's state and the bounded
//! channels between them, and starts each stage under the supervisor. It only builds and
//! names; what the stages do lives in their own files.
//!
//! ```text
//! producer ◀──pull N── processor ×P ──▶ batcher "a" ──▶ batch processor a.0 … a.N
//!                                   └─▶ batcher "b" ──▶ batch processor b.0 …
//! ```

use super::ack::{Acker, InFlight};
use super::batch_processor::{self, BatchProcessorState};
use super::batcher::{self, Batcher};
use super::config::{PipelineConfig, PipelineError};
use super::controls::{Controller, StartProcessor};
use super::handle::{Inner, Pipeline};
use super::handler::isolate;
use super::metrics::{KeysProbe, Metrics};
use super::partition::{KeyFn, Partitions};
use super::processor::{self, ProcessorState, Route};
use super::producer::Producer;
use super::producer_stage::{Gates, ProducerStage};
use super::rate_limit::RateLimiter;
use super::retry::RetryQueue;
use super::stats::{BatcherNode, ProcessorsNode, Topology};
use super::supervisor::{StageSlot, supervise};
use super::telemetry::{Event, StageId, Telemetry};
use super::terminator::Teardown;
use super::{Acknowledger, Handler};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Batches a batch processor's inbox holds before the stages filling it wait. Measured: with 2,
/// processors kept stopping to wake the batch processor (3× the context switches, -20 %).
pub(crate) const BATCHES_QUEUED: usize = 8;

/// Messages a partitioned pipeline queues per processor, in units of `max_demand`. Measured
/// (md 10, 64 keys): 2 → 4.5M msg/s, 8 → ~8M, 32 → ~8.5M (plain: ~12M): sorting in larger
/// rounds takes the producer's lock and wakes the other processors less often.
pub(crate) const PARTITION_QUEUE: usize = 32;

impl Pipeline {
    /// Starts a pipeline on the current tokio runtime: `producer` feeds it, `handler` does its
    /// work, `acknowledger` is told every message's fate exactly once.
    pub fn start<P, H>(
        config: PipelineConfig,
        producer: P,
        handler: Arc<H>,
        acknowledger: Arc<dyn Acknowledger<H::Data>>,
    ) -> Result<Pipeline, PipelineError>
    where
        P: Producer<Data = H::Data>,
        H: Handler,
    {
        config.validate()?;
        let pc = config.processors;
        let slots = pc.max_concurrency();
        let topology = Topology {
            producer: producer.describe(),
            processors: ProcessorsNode {
                concurrency: pc.concurrency as u32,
                max_demand: pc.max_demand as u32,
                min_demand: pc.min_demand() as u32,
                max_concurrency: slots as u32,
                partitioned: pc.partitioned,
            },
            batchers: config
                .batchers
                .iter()
                .map(|b| BatcherNode {
                    name: b.name.to_owned(),
                    batch_size: b.batch_size as u32,
                    batch_timeout_ms: b.batch_timeout.as_millis() as u64,
                    concurrency: b.concurrency as u32,
                    keys: Vec::new(),
                })
                .collect(),
        };

        // Channels, downstream first.
        let mut batchers = Vec::new();
        let mut batch_processors = Vec::new();
        for (b, bc) in config.batchers.iter().enumerate() {
            let mut to_processors = Vec::new();
            for index in 0..bc.concurrency {
                let (tx, rx) = mpsc::channel(BATCHES_QUEUED);
                to_processors.push(tx);
                let state = BatchProcessorState { batcher: b, batcher_name: bc.name, index, batches: rx };
                batch_processors
                    .push((StageId::BatchProcessor { batcher: b, index }, Arc::new(Mutex::new(state))));
            }
            // Counts the processors started below; more are counted as they are added.
            batchers.push(Arc::new(Batcher::new(b, bc.batch_size, bc.batch_timeout, 0, to_processors)));
        }
        let keys = batchers
            .iter()
            .map(|b| {
                let b = Arc::downgrade(b);
                Box::new(move || b.upgrade().map(|b| b.keys()).unwrap_or_default()) as KeysProbe
            })
            .collect();
        let metrics = Arc::new(Metrics::new(topology.clone(), producer.backlog(), keys));
        let telemetry = Telemetry { metrics: metrics.clone(), observers: config.observers.clone().into() };
        let acker = Acker::new(acknowledger, telemetry.clone());

        let drain = CancellationToken::new();
        let draining = Arc::new(AtomicBool::new(false));
        let partitions = pc.partitioned.then(|| {
            let handler = handler.clone();
            let key: KeyFn<H::Data> = Arc::new(move |m| {
                let mut key = 0;
                let _ = isolate(|| key = handler.partition_by(m));
                key
            });
            Partitions::new(key, slots, pc.concurrency, pc.max_demand * PARTITION_QUEUE)
        });
        let controls = Gates {
            limiter: RateLimiter::new(config.rate_limit),
            retries: config.retry.map(RetryQueue::new),
            partitions,
        };
        let producer =
            Arc::new(ProducerStage::new(producer, drain.clone(), draining.clone(), slots, controls));
        if config.retry.is_some() {
            acker.retry_into(producer.clone());
        }
        let mut processors = Vec::new();
        for index in 0..slots {
            processors.push(Arc::new(Mutex::new(ProcessorState {
                held: InFlight::new(Vec::new(), acker.clone(), StageId::Processor(index)),
                max_demand: pc.max_demand,
                min_demand: pc.min_demand(),
                route: Route {
                    index,
                    names: config.batchers.iter().map(|b| b.name).collect(),
                    batchers: batchers.clone(),
                },
                outbox: Vec::new(),
                waiting: Vec::new(),
            })));
        }

        // Start every stage under supervision. Processor slots all exist; the first
        // `concurrency` get a task now, the others when the concurrency is raised.
        let tracker = TaskTracker::new();
        let halt = CancellationToken::new();
        let processor_slots: Vec<(StageId, Arc<StageSlot>)> =
            (0..slots).map(|i| (StageId::Processor(i), Arc::new(StageSlot::default()))).collect();
        let start_processor: StartProcessor = {
            let (tracker, halt, telemetry, runtime) =
                (tracker.clone(), halt.clone(), telemetry.clone(), tokio::runtime::Handle::current());
            let (processors, producer, handler, acker, processor_slots) = (
                processors.clone(),
                producer.clone(),
                handler.clone(),
                acker.clone(),
                processor_slots.clone(),
            );
            Box::new(move |i: usize| {
                let (stage, slot) = processor_slots[i].clone();
                let (state, producer, handler, acker) =
                    (processors[i].clone(), producer.clone(), handler.clone(), acker.clone());
                // Called from any runtime (a server function): the task runs on the pipeline's.
                let _on = runtime.enter();
                supervise(&tracker, stage, slot, telemetry.clone(), halt.clone(), move || {
                    processor::run(state.clone(), producer.clone(), handler.clone(), acker.clone())
                });
            })
        };
        let controller = Controller {
            producer: producer.clone(),
            batchers: batchers.clone(),
            start_processor,
            telemetry: telemetry.clone(),
            desired: AtomicUsize::new(pc.concurrency),
            max: slots,
            partitioned: pc.partitioned,
        };
        for b in &batchers {
            for _ in 0..pc.concurrency {
                b.processor_started();
            }
        }
        controller.start(pc.concurrency);
        let mut slots = processor_slots;
        let mut start =
            |stage: StageId,
             body: Box<dyn Fn() -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>| {
                let slot = Arc::new(StageSlot::default());
                slots.push((stage, slot.clone()));
                supervise(&tracker, stage, slot, telemetry.clone(), halt.clone(), body);
            };
        for (b, state) in batchers.iter().enumerate() {
            let (state, acker) = (state.clone(), acker.clone());
            start(
                StageId::Batcher(b),
                Box::new(move || Box::pin(batcher::run(state.clone(), acker.clone()))),
            );
        }
        for (stage, state) in &batch_processors {
            let (state, handler, acker) = (state.clone(), handler.clone(), acker.clone());
            start(
                *stage,
                Box::new(move || {
                    Box::pin(batch_processor::run(state.clone(), handler.clone(), acker.clone()))
                }),
            );
        }
        tracker.close();
        telemetry.emit(&Event::TopologyStarted { topology: &topology });

        let teardown = Teardown::new(acker, producer, processors, batchers, batch_processors);
        Ok(Pipeline {
            inner: Arc::new(Inner {
                tracker,
                drain,
                draining,
                halt,
                slots,
                metrics,
                telemetry,
                teardown: Box::new(teardown),
                controls: Box::new(controller),
            }),
        })
    }
}
