//! Shared state handed to every axum handler and, as context, to Leptos: each handle the
//! handlers act on, held here directly (nothing reaches a control through the stats).

use crate::bus::RedisBus;
use crate::dead_letters::DeadLetterQueue;
use crate::demo::{Simulator, Taps};
use crate::guard::Operator;
use crate::ingest::Ingest;
use crate::live::{Reporter, Snapshots};
use crate::observe::Observe;
use crate::pipeline::Pipeline;
use crate::pubsub::PubSub;
use crate::rate::PerClient;
use app::model::SensorReading;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use tokio_util::sync::CancellationToken;

/// Cheap-clone bundle of the server's handles.
#[derive(Clone)]
pub(crate) struct AppState {
    /// Leptos' settings (site root, output name): the SSR renderer needs them.
    pub(crate) leptos: LeptosOptions,
    /// The way events enter the pipeline.
    pub(crate) ingest: Ingest,
    /// The engine: its controls and stage kills.
    pub(crate) pipeline: Pipeline,
    /// The hub, for broadcasts on topics outside the pipeline's.
    pub(crate) pubsub: PubSub<SensorReading>,
    /// The demo's simulated publisher.
    pub(crate) simulator: Simulator,
    /// Subscribers added from the page.
    pub(crate) taps: Taps,
    /// Messages the pipeline gave up on: list, replay, purge.
    pub(crate) dead_letters: DeadLetterQueue,
    /// The stats snapshot, read live.
    pub(crate) snapshots: Snapshots,
    /// The latest frame, for WebSockets and first paints.
    pub(crate) reporter: Reporter,
    /// Cancelled when the server starts shutting down: long-lived handlers (WebSockets) end.
    pub(crate) shutdown: CancellationToken,
    /// The dashboard's history, HTTP / WebSocket metrics and the `/metrics` exporter.
    pub(crate) observe: Observe,
    /// Who may act: what each page tells its visitor about the controls.
    pub(crate) operator: Operator,
    /// Events per second each client may post to `/api/events`.
    pub(crate) ingest_limit: PerClient,
    /// Frames a live-stream client may fall behind in one stuck send before it is dropped.
    pub(crate) ws_max_lag: u64,
    /// The Redis bus in redis mode (`--bus redis://...`); `None` when embedded.
    pub(crate) bus: Option<RedisBus>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Observe {
    fn from_ref(state: &AppState) -> Self {
        state.observe.clone()
    }
}
