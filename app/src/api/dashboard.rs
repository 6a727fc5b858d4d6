//! The dashboard's one server function, `/rpc/poll_dashboard`, and the contract the server
//! fills for it ([`DashboardSource`], provided as Leptos context beside the `Backend`).
//!
//! The page calls it once for its first paint (`since = 0`: every kept row) and then once per
//! refresh interval with the last row and log line it has, so a poll carries only what is new.

use crate::error::AppError;
use crate::model::DashboardUpdate;
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// Process, OS and pipeline figures, history rows after `since` and log lines after
/// `log_since` at or above `level` (`error` … `trace`; anything else is refused).
#[server(prefix = "/rpc", endpoint = "poll_dashboard", output = Postcard)]
pub async fn poll_dashboard(since: u64, log_since: u64, level: String) -> Result<DashboardUpdate, AppError> {
    super::answer(
        async move {
            let level = crate::model::LogLevel::parse(&level)
                .map_err(|e| AppError::InvalidArgument(e.to_string()))?;
            let source = source::dashboard_source()?;
            Ok(source.update(since, log_since, level))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
pub use source::{DashboardSource, SharedDashboardSource};

#[cfg(feature = "ssr")]
mod source {
    use crate::error::AppError;
    use crate::model::{DashboardUpdate, LogLevel};
    use std::sync::Arc;

    /// What the dashboard needs from the running server.
    pub trait DashboardSource: Send + Sync + 'static {
        /// The latest sample, rows after `since`, log lines after `log_since` passing `level`.
        fn update(&self, since: u64, log_since: u64, level: LogLevel) -> DashboardUpdate;
    }

    /// The form the source takes in Leptos context.
    pub type SharedDashboardSource = Arc<dyn DashboardSource>;

    /// Fetches the source from context; a missing one is a wiring bug reported as an error.
    pub fn dashboard_source() -> Result<SharedDashboardSource, AppError> {
        leptos::prelude::use_context::<SharedDashboardSource>()
            .ok_or_else(|| AppError::Unavailable("dashboard source not provided".into()))
    }
}
