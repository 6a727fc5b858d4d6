//! Server functions the UI calls, and the contract the server implements for them.
//!
//! The `app` crate cannot depend on `server` (it is the other way round), so server functions
//! reach the running pipeline through [`Backend`], a trait object the server provides as context
//! both when rendering pages and when answering server-function calls.

mod dashboard;
mod publish;
mod stats;

#[cfg(feature = "ssr")]
pub use dashboard::{DashboardSource, SharedDashboardSource};
pub use dashboard::{PollDashboard, poll_dashboard};
pub use publish::{PUBLISH_MAX, PublishSample, publish_sample};
pub use stats::{GetStats, get_stats};

#[cfg(feature = "ssr")]
pub use backend::{Backend, BoxFuture, SharedBackend};

#[cfg(feature = "ssr")]
mod backend {
    use crate::error::AppError;
    use crate::model::StatsSnapshot;
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
