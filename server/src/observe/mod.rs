//! Observability: what `/dashboard` and `/metrics` show, and the logging set-up.
//!
//! # Layout
//! - [`ring`]: the fixed-size ring buffer history and the log tail are made of.
//! - [`history`]: one row of every catalogue metric per second, 15 minutes of them.
//! - [`system`]: process and OS figures from `/proc`.
//! - [`http`]: the request-timing middleware; [`socket`]: WebSocket counters.
//! - [`prometheus`]: the `/metrics` exporter (Prometheus text 0.0.4 or OpenMetrics);
//!   [`logs`]: the log tail layer;
//!   [`logging`]: `RUST_LOG`, JSON lines, the tail's own filter.
//! - [`sampler`]: the once-a-second task that fills history and the latest sample.
//! - [`endpoint`]: `GET /metrics` and `GET /api/dashboard` (the poll as plain JSON).
//!
//! [`Observe`] is the handle the server keeps: it answers the dashboard's polls
//! (`app::api::DashboardSource`) from what the sampler prepared, so ten open dashboards cost
//! ten small lookups a second, not ten snapshots.

pub mod endpoint;
pub mod history;
pub mod http;
pub mod logging;
pub mod logs;
pub mod prometheus;
pub mod ring;
pub mod sampler;
pub mod socket;
pub mod system;

use app::api::DashboardSource;
use app::model::{DashboardUpdate, LOG_BATCH, LogLevel, StatsSnapshot, SystemInfo};
use history::History;
use http::HttpMetrics;
use logs::LogTail;
use prometheus::{Exporter, SnapshotFn};
use socket::SocketMetrics;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The latest sample: what every poll returns beside new rows and log lines.
#[derive(Debug, Default)]
pub struct Latest {
    pub system: SystemInfo,
    pub stats: StatsSnapshot,
}

/// Cheap-clone handle to the dashboard's data and the exporter.
#[derive(Clone)]
pub struct Observe(Arc<Inner>);

struct Inner {
    history: History,
    latest: Mutex<Arc<Latest>>,
    http: Arc<HttpMetrics>,
    sockets: Arc<SocketMetrics>,
    exporter: Exporter,
    tail: &'static LogTail,
    snapshot: SnapshotFn,
    data_dir: PathBuf,
}

impl Observe {
    /// A handle reading stats from `snapshot`; `data_dir` is the directory whose disk the OS
    /// tab shows (the server's `PULSE_DATA_DIR`).
    pub fn new(snapshot: SnapshotFn, data_dir: PathBuf) -> Self {
        let http = Arc::new(HttpMetrics::default());
        let sockets = Arc::new(SocketMetrics::default());
        let exporter = Exporter::new(&http, sockets.clone(), snapshot.clone());
        Self(Arc::new(Inner {
            history: History::default(),
            latest: Mutex::default(),
            http,
            sockets,
            exporter,
            tail: LogTail::global(),
            snapshot,
            data_dir,
        }))
    }

    /// The HTTP metrics the middleware records into.
    pub fn http(&self) -> Arc<HttpMetrics> {
        self.0.http.clone()
    }

    /// The WebSocket counters `ws.rs` bumps.
    pub fn sockets(&self) -> &Arc<SocketMetrics> {
        &self.0.sockets
    }

    /// The history rows.
    pub fn history(&self) -> &History {
        &self.0.history
    }

    /// The `/metrics` exposition in `format`.
    pub fn render_metrics(&self, format: prometheus::Format) -> Result<String, std::fmt::Error> {
        self.0.exporter.render(format)
    }

    fn set_latest(&self, latest: Latest) {
        *self.0.latest.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(latest);
    }
}

impl DashboardSource for Observe {
    fn update(&self, since: u64, log_since: u64, level: LogLevel) -> DashboardUpdate {
        let latest = self.0.latest.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (logs, log_seq) = self.0.tail.after(log_since, level, LOG_BATCH);
        DashboardUpdate {
            system: latest.system.clone(),
            stats: latest.stats.clone(),
            rows: self.0.history.after(since),
            logs,
            log_seq,
        }
    }
}
