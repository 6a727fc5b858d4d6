//! Server functions the UI calls, and the contract the server implements for them.
//!
//! The `app` crate cannot depend on `server` (it is the other way round), so server functions
//! reach the running pipeline through [`Backend`], a trait object the server provides as context
//! both when rendering pages and when answering server-function calls.

mod controls;
mod publish;
mod simulator;
mod stats;

pub use controls::{
    GetControls, MAX_RATE_INTERVAL_MS, SetConcurrency, SetPaused, SetRateLimit, check_rate_limit,
    get_controls, set_concurrency, set_paused, set_rate_limit,
};
pub use publish::{PUBLISH_MAX, PublishSample, publish_sample};
pub use simulator::{StartSimulator, StopSimulator, start_simulator, stop_simulator};
pub use stats::{GetStats, get_stats};

#[cfg(feature = "ssr")]
pub use backend::{Backend, BoxFuture, SharedBackend};

#[cfg(feature = "ssr")]
mod backend {
    use crate::error::AppError;
    use crate::model::{PipelineControls, RateLimitSetting, StatsSnapshot};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    /// A boxed future, so [`Backend`] can be used as a trait object.
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// What server functions need from the running server.
    pub trait Backend: Send + Sync + 'static {
        /// Publishes `count` generated readings (a few out of range, as real sensors glitch)
        /// and resolves to how many were accepted.
        fn publish_sample(&self, count: u32) -> BoxFuture<'_, Result<u64, AppError>>;
        /// The current ledger and rates.
        fn stats(&self) -> StatsSnapshot;
        /// The pipeline's run-time controls as set now.
        fn controls(&self) -> PipelineControls;
        /// Runs `concurrency` processors; returns the previous count.
        fn set_concurrency(&self, concurrency: u32) -> Result<u32, AppError>;
        /// Pauses or resumes intake.
        fn set_paused(&self, paused: bool) -> Result<(), AppError>;
        /// Sets, changes or (with `None`) lifts the rate limit.
        fn set_rate_limit(&self, limit: Option<RateLimitSetting>) -> Result<(), AppError>;
        /// Starts or re-tunes the simulated publisher.
        fn start_simulator(&self, rate_per_s: u32, invalid_pct: u8) -> Result<(), AppError>;
        /// Stops the simulated publisher.
        fn stop_simulator(&self);
    }

    /// The form the backend takes in Leptos context.
    pub type SharedBackend = Arc<dyn Backend>;

    /// Fetches the backend from context; a missing one is a wiring bug reported as an error,
    /// not a panic.
    pub fn backend() -> Result<SharedBackend, AppError> {
        leptos::prelude::use_context::<SharedBackend>()
            .ok_or_else(|| AppError::Unavailable("pipeline backend not provided".into()))
    }
}

#[cfg(feature = "ssr")]
pub(crate) use backend::backend;
