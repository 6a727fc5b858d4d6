//! The options a pipeline is built from, with their defaults and their validation in one place
//! (Broadway validates its options from one schema that also documents them).

use super::rate_limit::RateLimit;
use super::retry::RetryPolicy;
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
    /// At most this many messages leave the producer per interval (changeable at run time
    /// with `Pipeline::update_rate_limit`). Default: none.
    pub rate_limit: Option<RateLimit>,
    /// Failed messages get more attempts, with back-off, before they are acknowledged as
    /// failed. Default: none (Broadway's behaviour: a failure is final).
    pub retry: Option<RetryPolicy>,
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
    /// Most processors the concurrency can be raised to at run time
    /// (`Pipeline::set_concurrency`). Default: 16, or `concurrency` if higher.
    pub max_concurrency: Option<usize>,
    /// Partition messages by `Handler::partition_by`: one key's messages are handled in order
    /// by one processor (Broadway's `partition_by`). Needs `min_demand` 0. Default false.
    pub partitioned: bool,
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
            rate_limit: None,
            retry: None,
        }
    }
}

impl Default for ProcessorConfig {
    fn default() -> Self {
        Self { concurrency: 2, max_demand: 10, min_demand: None, max_concurrency: None, partitioned: false }
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
            .field("rate_limit", &self.rate_limit)
            .field("retry", &self.retry)
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
    #[error("{0}")]
    InvalidControl(String),
    #[error("the pipeline is draining: it takes no more changes")]
    Draining,
}

impl ProcessorConfig {
    /// `min_demand` with its default applied.
    pub fn min_demand(&self) -> usize {
        self.min_demand.unwrap_or(0)
    }

    /// `max_concurrency` with its default applied.
    pub fn max_concurrency(&self) -> usize {
        self.max_concurrency.unwrap_or(16).max(self.concurrency)
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
        if p.max_concurrency.is_some_and(|m| m < p.concurrency) {
            return bad(format!(
                "processors.max_concurrency ({}) must be at least concurrency ({})",
                p.max_concurrency(),
                p.concurrency
            ));
        }
        if p.max_concurrency() > 1024 {
            return bad("processors.max_concurrency must be at most 1024".into());
        }
        if p.partitioned && p.min_demand() > 0 {
            return bad("a partitioned pipeline needs processors.min_demand 0: a processor \
                        takes its partition's next chunk only once it is done with the last"
                .into());
        }
        if let Some(r) = &self.rate_limit {
            r.validate().map_err(PipelineError::InvalidConfig)?;
        }
        if let Some(r) = &self.retry {
            r.validate().map_err(PipelineError::InvalidConfig)?;
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
