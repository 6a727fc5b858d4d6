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
use super::handle::{Inner, Pipeline, Teardown};
use super::metrics::{KeysProbe, Metrics};
use super::processor::{self, ProcessorState, Route};
use super::producer::Producer;
use super::producer_stage::ProducerStage;
use super::supervisor::{StageSlot, supervise};
use super::telemetry::{Event, StageId, Telemetry};
use super::{Acknowledger, Handler};
use app::model::{BatcherNode, ProcessorsNode, Topology};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Batches a batch processor's inbox holds before the stages filling it wait. Measured: with 2,
/// processors kept stopping to wake the batch processor (3× the context switches, -20 %).
pub(crate) const BATCHES_QUEUED: usize = 8;

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
        let topology = Topology {
            producer: producer.describe(),
            processors: ProcessorsNode {
                concurrency: pc.concurrency as u32,
                max_demand: pc.max_demand as u32,
                min_demand: pc.min_demand() as u32,
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
            batchers.push(Arc::new(Batcher::new(
                b,
                bc.batch_size,
                bc.batch_timeout,
                pc.concurrency,
                to_processors,
            )));
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
        let producer = Arc::new(ProducerStage::new(producer, drain.clone(), draining.clone()));
        let mut processors = Vec::new();
        for index in 0..pc.concurrency {
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

        // Start every stage under supervision.
        let tracker = TaskTracker::new();
        let halt = CancellationToken::new();
        let mut slots = Vec::new();
        let mut start =
            |stage: StageId,
             body: Box<dyn Fn() -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>| {
                let slot = Arc::new(StageSlot::default());
                slots.push((stage, slot.clone()));
                supervise(&tracker, stage, slot, telemetry.clone(), halt.clone(), body);
            };
        for (i, state) in processors.iter().enumerate() {
            let (state, producer, handler, acker) =
                (state.clone(), producer.clone(), handler.clone(), acker.clone());
            start(
                StageId::Processor(i),
                Box::new(move || {
                    Box::pin(processor::run(state.clone(), producer.clone(), handler.clone(), acker.clone()))
                }),
            );
        }
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
            }),
        })
    }
}
