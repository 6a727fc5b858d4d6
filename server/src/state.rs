//! Shared state handed to every axum handler and, as context, to Leptos.

use crate::demo::{Simulator, Taps};
use crate::ingest::Ingest;
use crate::observe::Observe;
use crate::telemetry::{Reporter, Stats};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use tokio_util::sync::CancellationToken;

/// Cheap-clone bundle of the server's handles.
#[derive(Clone)]
pub struct AppState {
    /// Leptos' settings (site root, output name): the SSR renderer needs them.
    pub leptos: LeptosOptions,
    /// The way events enter the pipeline.
    pub ingest: Ingest,
    /// The demo's simulated publisher.
    pub simulator: Simulator,
    /// Subscribers added from the page.
    pub taps: Taps,
    /// The ledger and rates.
    pub stats: Stats,
    /// The latest serialized snapshot, for WebSockets.
    pub reporter: Reporter,
    /// Cancelled when the server starts shutting down: long-lived handlers (WebSockets) end.
    pub shutdown: CancellationToken,
    /// The dashboard's history, HTTP / WebSocket metrics and the `/metrics` exporter.
    pub observe: Observe,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
