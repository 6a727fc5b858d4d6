//! Server functions the UI calls, and the contract the server implements for them.
//!
//! The `app` crate cannot depend on `server` (it is the other way round), so server functions
//! reach the running pipeline through [`Backend`], a trait object the server provides as context
//! both when rendering pages and when answering server-function calls.
//!
//! # One codec
//! Arguments come form-encoded (`POST /rpc/<name>`, what a `<form>` or `curl -d` sends); every
//! answer, and every error ([`AppError`]), is postcard (`application/x-postcard`), server_fn's
//! own codec: the live stream's frames are postcard too, so the browser carries one decoder for
//! both. Each server function wraps its body in [`answer`], which sets the HTTP status of a
//! refusal where it is made: a bad argument is 400, a server that cannot take the work now 503
//! (`AppError::status`). Arguments that do not decode are refused with 400 by
//! `AppError::from_server_fn_error`, before the body runs. The JSON API is `/api/*`.

mod cluster;
mod controls;
mod dashboard;
mod dead_letters;
mod publish;
mod pubsub;
mod scenarios;
mod simulator;
mod stats;

pub use cluster::{ControlAll, GetCluster, control_all, get_cluster};
pub use controls::{
    GetControls, MAX_RATE_INTERVAL_MS, SetConcurrency, SetPaused, SetRateLimit, check_rate_limit,
    get_controls, set_concurrency, set_paused, set_rate_limit,
};
#[cfg(feature = "ssr")]
pub use dashboard::{DashboardSource, SharedDashboardSource};
pub use dashboard::{PollDashboard, poll_dashboard};
pub use dead_letters::{
    DEAD_LETTER_PAGE_MAX, ListDeadLetters, PurgeDeadLetters, REPLAY_IDS_MAX, RecentDeadLetters,
    ReplayDeadLetters, list_dead_letters, purge_dead_letters, recent_dead_letters, replay_dead_letters,
};
pub use publish::{PUBLISH_MAX, PublishSample, publish_sample};
pub use pubsub::{AddTap, BROADCAST_MAX, Broadcast, RemoveTap, add_tap, broadcast, remove_tap};
pub use scenarios::{CrashProcessor, KillStage, STAGE_NAME_MAX, check_stage, crash_processor, kill_stage};
pub use simulator::{StartSimulator, StopSimulator, start_simulator, stop_simulator};
pub use stats::{GetLive, GetStats, get_live, get_stats};

#[cfg(feature = "ssr")]
pub use backend::{Backend, BoxFuture, SharedBackend};

/// Who may call which server function: the server's guard refuses an operator function to a
/// visitor without the operator's rights, and a publishing one to a publisher without the
/// ingest token when one is set (see `server::guard::access`). Every other server function
/// only reads. A server test checks that each registered server function is in exactly one
/// of these lists or [`READ_ONLY`](classes::read_only).
#[cfg(feature = "ssr")]
pub mod classes {
    use super::*;
    use leptos::server_fn::ServerFn;

    /// The destructive controls: kill, crash, pause, concurrency, rate limit, simulator,
    /// taps, replay, purge.
    pub fn operator() -> [&'static str; 12] {
        [
            <ControlAll as ServerFn>::PATH,
            <KillStage as ServerFn>::PATH,
            <CrashProcessor as ServerFn>::PATH,
            <SetPaused as ServerFn>::PATH,
            <SetConcurrency as ServerFn>::PATH,
            <SetRateLimit as ServerFn>::PATH,
            <StartSimulator as ServerFn>::PATH,
            <StopSimulator as ServerFn>::PATH,
            <AddTap as ServerFn>::PATH,
            <RemoveTap as ServerFn>::PATH,
            <ReplayDeadLetters as ServerFn>::PATH,
            <PurgeDeadLetters as ServerFn>::PATH,
        ]
    }

    /// The page's publish buttons and broadcasts: what `POST /api/events` is for scripts.
    pub fn publish() -> [&'static str; 2] {
        [<PublishSample as ServerFn>::PATH, <Broadcast as ServerFn>::PATH]
    }

    /// The server functions that only read.
    pub fn read_only() -> [&'static str; 7] {
        [
            <GetCluster as ServerFn>::PATH,
            <GetStats as ServerFn>::PATH,
            <GetLive as ServerFn>::PATH,
            <GetControls as ServerFn>::PATH,
            <ListDeadLetters as ServerFn>::PATH,
            <RecentDeadLetters as ServerFn>::PATH,
            <PollDashboard as ServerFn>::PATH,
        ]
    }
}

#[cfg(feature = "ssr")]
mod backend {
    use crate::error::AppError;
    use crate::model::{
        Access, ClusterInfo, DeadLetterPage, LiveFrame, OverflowPolicy, PipelineControls, RateLimitSetting,
        StageKey, StatsSnapshot,
    };
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
        /// A full live frame as of now (stats, history, feed).
        fn live(&self) -> LiveFrame;
        /// Publishes one reading whose handler panics (the processor-crash scenario).
        fn crash_processor(&self) -> BoxFuture<'_, Result<(), AppError>>;
        /// Kills the running stage `stage`.
        fn kill_stage(&self, stage: &StageKey) -> Result<(), AppError>;
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
        /// Publishes `count` generated readings on `topic` (see `api::broadcast`).
        fn broadcast(
            &self,
            topic: String,
            count: u32,
            from: Option<u64>,
            local: bool,
        ) -> BoxFuture<'_, Result<u64, AppError>>;
        /// Adds a tap subscriber; returns its id.
        fn add_tap(
            &self,
            pattern: String,
            capacity: u32,
            overflow: OverflowPolicy,
            read_per_s: u32,
        ) -> Result<u64, AppError>;
        /// Removes a tap; false if there was none.
        fn remove_tap(&self, id: u64) -> bool;
        /// A page of the dead-letter queue, newest first.
        fn dead_letters(
            &self,
            before: Option<u64>,
            limit: u32,
        ) -> BoxFuture<'_, Result<DeadLetterPage, AppError>>;
        /// Replays the named letters (`None`: all); returns how many were published again.
        fn replay_dead_letters(&self, ids: Option<Vec<u64>>) -> BoxFuture<'_, Result<u64, AppError>>;
        /// Empties the dead-letter queue; returns how many letters it held.
        fn purge_dead_letters(&self) -> BoxFuture<'_, Result<u64, AppError>>;
        /// What the visitor of the page being rendered may do (from its request's headers and
        /// query), so locked controls say why.
        fn access(&self, headers: &http::HeaderMap, query: Option<&str>) -> Access;
        /// Every node sharing the work, their ledgers and the total; the bus.
        fn cluster(&self) -> BoxFuture<'_, Result<ClusterInfo, AppError>>;
        /// Applies a control to every node (see `api::control_all`).
        fn control_all(&self, action: String, value: Option<u64>) -> BoxFuture<'_, Result<u64, AppError>>;
    }

    /// The form the backend takes in Leptos context.
    pub type SharedBackend = Arc<dyn Backend>;

    /// Fetches the backend from context; a missing one is a wiring bug reported as an error,
    /// not a panic.
    pub(crate) fn backend() -> Result<SharedBackend, AppError> {
        leptos::prelude::use_context::<SharedBackend>()
            .ok_or_else(|| AppError::Unavailable("pipeline backend not provided".into()))
    }
}

#[cfg(feature = "ssr")]
pub(crate) use backend::backend;

/// A server function's result, with the HTTP status of a refusal set where it is made (the
/// bodies of server functions exist only on the server).
#[cfg(feature = "ssr")]
pub(crate) fn answer<T>(result: Result<T, crate::error::AppError>) -> Result<T, crate::error::AppError> {
    if let Err(e) = &result {
        e.set_status();
    }
    result
}
