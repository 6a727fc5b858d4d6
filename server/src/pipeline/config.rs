//! The options a pipeline is built from, with their defaults and their validation in one place
//! (Broadway validates its options from one schema that also documents them).

use super::telemetry::Observer;
use std::sync::Arc;
use std::time::Duration;

/// How a pipeline is shaped.
#[derive(Clone)]
pub struct PipelineConfig {
    pub processors: ProcessorConfig,
    /// Named batchers; successful messages go to the one they are routed to. With none,
    /// messages are acknowledged right after `handle_message`.
    pub batchers: Vec<BatcherConfig>,
    /// Told every telemetry event (see `telemetry`), besides the built-in metrics.
    pub observers: Vec<Arc<dyn Observer>>,
}

/// The processor group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessorConfig {
    /// Processors running `handle_message` side by side. Default 2.
    pub concurrency: usize,
    /// Most messages a processor holds (pulled and not yet handled). Default 10, as Broadway's.
    pub max_demand: usize,
    /// A processor asks for more once it holds this many or fewer, and handles chunks of at
    /// most `max_demand - min_demand` (GenStage's semantics). Default 0: processors pull when
    /// they run dry and handle up to `max_demand` at once. Broadway's default is 5 (of 10),
    /// which halves the chunk; with synchronous handling there is no demand in flight to keep
    /// topped up, so Pulse does not pay for that by default.
    pub min_demand: Option<usize>,
}

/// One named batcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatcherConfig {
    /// Referred to by [`super::Message::put_batcher`]. Default `"default"`.
    pub name: &'static str,
    /// Messages per batch. Default 100.
    pub batch_size: usize,
    /// Longest a partial batch waits after its first message. Default 50 ms.
    pub batch_timeout: Duration,
    /// Batch processors running `handle_batch` side by side. Default 1.
    pub concurrency: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            processors: ProcessorConfig::default(),
            batchers: vec![BatcherConfig::default()],
            observers: Vec::new(),
        }
    }
}

impl Default for ProcessorConfig {
    fn default() -> Self {
        Self { concurrency: 2, max_demand: 10, min_demand: None }
    }
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            name: super::message::DEFAULT_BATCHER,
            batch_size: 100,
            batch_timeout: Duration::from_millis(50),
            concurrency: 1,
        }
    }
}

impl std::fmt::Debug for PipelineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineConfig")
            .field("processors", &self.processors)
            .field("batchers", &self.batchers)
            .field("observers", &self.observers.len())
            .finish()
    }
}

/// Why a pipeline could not be built, stopped cleanly or told something.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PipelineError {
    #[error("invalid pipeline config: {0}")]
    InvalidConfig(String),
    #[error("pipeline did not drain within {timeout:?}; {abandoned} messages were failed")]
    DrainTimeout { timeout: Duration, abandoned: u64 },
    #[error("no such stage: {0}")]
    NoSuchStage(String),
}

impl ProcessorConfig {
    /// `min_demand` with its default applied.
    pub fn min_demand(&self) -> usize {
        self.min_demand.unwrap_or(0)
    }
}

impl PipelineConfig {
    pub(crate) fn validate(&self) -> Result<(), PipelineError> {
        let bad = |why: String| Err(PipelineError::InvalidConfig(why));
        let p = &self.processors;
        if p.concurrency == 0 {
            return bad("processors.concurrency must be at least 1".into());
        }
        if p.max_demand == 0 {
            return bad("processors.max_demand must be at least 1".into());
        }
        if p.min_demand() >= p.max_demand {
            return bad(format!(
                "processors.min_demand ({}) must be below max_demand ({})",
                p.min_demand(),
                p.max_demand
            ));
        }
        for (i, b) in self.batchers.iter().enumerate() {
            let named = format!("batcher {:?}", b.name);
            if self.batchers[..i].iter().any(|o| o.name == b.name) {
                return bad(format!("{named} is configured twice"));
            }
            if b.batch_size == 0 {
                return bad(format!("{named}: batch_size must be at least 1"));
            }
            if b.batch_timeout.is_zero() {
                return bad(format!("{named}: batch_timeout must be positive"));
            }
            if b.concurrency == 0 {
                return bad(format!("{named}: concurrency must be at least 1"));
            }
        }
        Ok(())
    }
}
