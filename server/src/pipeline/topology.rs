//! Builds and starts the stages: producer → processors → batcher, wired by bounded channels.

use super::batcher::Batcher;
use super::processor::Processor;
use super::{Acknowledger, Handler, producer};
use crate::pubsub::{Overflow, PubSub, SubscribeConfig};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

/// How a pipeline is shaped. Defaults follow the foundation issue: 2 processors, batches of 100
/// or 50 ms.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// The pub/sub topic the producer subscribes to.
    pub topic: String,
    /// The subscription's buffer, in messages: what may wait between publisher and producer.
    pub buffer: usize,
    /// What a full buffer does to publishers.
    pub overflow: Overflow,
    /// Concurrent processors.
    pub processors: usize,
    /// Most messages a processor asks for at once.
    pub max_demand: usize,
    /// Messages per batch.
    pub batch_size: usize,
    /// Longest a partial batch waits before it is handled anyway.
    pub batch_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            topic: "events".into(),
            buffer: 65_536,
            overflow: Overflow::Block,
            processors: 2,
            max_demand: 256,
            batch_size: 100,
            batch_timeout: Duration::from_millis(50),
        }
    }
}

/// Why a pipeline could not be built or stopped cleanly.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PipelineError {
    #[error("invalid pipeline config: {0}")]
    InvalidConfig(&'static str),
    #[error("pipeline did not drain within {0:?}")]
    DrainTimeout(Duration),
}

impl PipelineConfig {
    fn validate(&self) -> Result<(), PipelineError> {
        let checks = [
            (self.buffer == 0, "buffer must be at least 1"),
            (self.processors == 0, "processors must be at least 1"),
            (self.max_demand == 0, "max_demand must be at least 1"),
            (self.batch_size == 0, "batch_size must be at least 1"),
            (self.batch_timeout.is_zero(), "batch_timeout must be positive"),
        ];
        match checks.into_iter().find(|(bad, _)| *bad) {
            Some((_, why)) => Err(PipelineError::InvalidConfig(why)),
            None => Ok(()),
        }
    }
}

/// Handle to a running pipeline. The pipeline stops by itself once its topic is closed on the
/// pub/sub and everything buffered has been handled; [`Pipeline::drained`] waits for that.
#[derive(Clone)]
pub struct Pipeline {
    tracker: TaskTracker,
}

/// What a pipeline reports to, besides its acknowledger.
pub struct PipelineHooks {
    /// Counts messages the subscription loses (`DropNewest` overflow).
    pub lost: Arc<AtomicU64>,
    /// Called with each batch's size.
    pub on_batch: Arc<dyn Fn(usize) + Send + Sync>,
}

impl Pipeline {
    /// Subscribes to the config's topic and starts every stage on the runtime.
    pub fn start<H: Handler>(
        config: &PipelineConfig,
        pubsub: &PubSub<H::Data>,
        handler: Arc<H>,
        acknowledger: Arc<dyn Acknowledger<H::Data>>,
        hooks: PipelineHooks,
    ) -> Result<Self, PipelineError>
    where
        H::Data: Clone,
    {
        config.validate()?;
        let subscription = pubsub.subscribe(
            &config.topic,
            SubscribeConfig { capacity: config.buffer, overflow: config.overflow, lost: hooks.lost },
        );
        let tracker = TaskTracker::new();
        let (demand_tx, demand_rx) = mpsc::channel(config.processors * 2);
        let (batch_tx, batch_rx) = mpsc::channel(config.processors * 2);
        tracker.spawn(producer::run(subscription, demand_rx, acknowledger.clone()));
        for _ in 0..config.processors {
            let processor = Processor {
                handler: handler.clone(),
                acknowledger: acknowledger.clone(),
                demands: demand_tx.clone(),
                to_batcher: batch_tx.clone(),
                max_demand: config.max_demand,
            };
            tracker.spawn(processor.run());
        }
        tracker.spawn(
            Batcher {
                handler,
                acknowledger,
                from_processors: batch_rx,
                batch_size: config.batch_size,
                batch_timeout: config.batch_timeout,
                on_batch: hooks.on_batch,
            }
            .run(),
        );
        tracker.close();
        Ok(Self { tracker })
    }

    /// Waits until every stage has finished (after the topic was closed), at most `timeout`.
    pub async fn drained(&self, timeout: Duration) -> Result<(), PipelineError> {
        tokio::time::timeout(timeout, self.tracker.wait())
            .await
            .map_err(|_| PipelineError::DrainTimeout(timeout))
    }

    /// Whether every stage has finished.
    pub fn is_finished(&self) -> bool {
        self.tracker.is_closed() && self.tracker.is_empty()
    }
}
