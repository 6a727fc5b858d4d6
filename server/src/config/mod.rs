//! Server settings from one schema: [`Settings`] declares every setting once (its flag, its
//! environment variable, its default, its range and its help), `server --help` prints them,
//! and [`ServerConfig`] is what [`crate::run`] takes. A flag wins over its variable; an empty
//! variable counts as unset; a bad value stops the server with clap's message, which names the
//! flag and the variable. The defaults run Pulse embedded on `127.0.0.1:3000` with nothing else
//! to start.
//!
//! Adding a setting: a field on [`Settings`] (flag, `env`, default, `value_parser` range and a
//! `[range: ..]` tag in its help, which a test checks against the parser), where it lands in
//! `From<Settings> for ServerConfig`, and its row in README.md's settings table (a test
//! compares the table with `--help`).
//!
//! Layout: `settings.rs` the schema ([`Settings`]) and its parsing; this file [`ServerConfig`]
//! and the conversion; `tests.rs` both.

mod settings;
#[cfg(test)]
mod tests;

pub use settings::{LeptosEnv, LogFormat, Settings};

use crate::bus::{BusConfig, BusSetting};
use crate::guard::{AllowedHost, Token};
use crate::pipeline::{PipelineConfig, RateLimit, RetryPolicy};
use crate::pubsub::Overflow;
use leptos::config::{Env, LeptosOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `run` needs besides a listener. Built from [`Settings`] (its `Default` is the
/// settings' defaults); tests build it field by field.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen (`--addr` / `PULSE_ADDR`, else `--site-addr` / `LEPTOS_SITE_ADDR`).
    pub addr: SocketAddr,
    /// The hosts the server answers for (`--allowed-hosts` / `PULSE_ALLOWED_HOSTS`); empty: the
    /// listen address and the loopback names at its port ([`crate::guard::AllowedHosts`]).
    pub allowed_hosts: Vec<AllowedHost>,
    /// Built site (`LEPTOS_SITE_ROOT`) with the WASM bundle under `site_pkg_dir`.
    pub site_root: String,
    /// `LEPTOS_SITE_PKG_DIR`.
    pub site_pkg_dir: String,
    /// `LEPTOS_OUTPUT_NAME`: the bundle's file names.
    pub output_name: String,
    /// `LEPTOS_ENV` (`DEV` enables cargo-leptos' live reload).
    pub env: Env,
    /// The topic ingest publishes on and the pipeline's producer subscribes to (`events`).
    pub topic: String,
    /// The producer's subscription buffer, in messages (`PULSE_BUFFER`).
    pub buffer: usize,
    /// What a full buffer does to publishers (default: block them).
    pub overflow: Overflow,
    /// How the pipeline is shaped: processors, demand, batching, retries, rate limit (see
    /// [`Settings`]).
    pub pipeline: PipelineConfig,
    /// Worker threads of the pipeline's own runtime (`PULSE_PIPELINE_THREADS`).
    /// HTTP, WebSockets and publishers run on the main runtime; the data plane gets its own
    /// (measured on 2 cores: one pipeline worker beats two, both in throughput and latency).
    pub pipeline_threads: usize,
    /// Longest the pipeline may take to drain on shutdown (`PULSE_DRAIN_TIMEOUT_MS`).
    pub drain_timeout: Duration,
    /// Where Pulse keeps state that must survive a restart (`PULSE_DATA_DIR`, relative to the
    /// working directory like the site root; point it at a volume in production). Created on
    /// first use.
    pub data_dir: PathBuf,
    /// The most entries the dead-letter queue keeps before evicting (and counting) the oldest
    /// (`PULSE_DLQ_CAPACITY`).
    pub dlq_capacity: usize,
    /// The Redis bus (`--bus redis://...`), or `None`: embedded, this process alone.
    pub bus: Option<BusConfig>,
    /// The operator's token (`--admin-token` or `--admin-token-file`); see
    /// [`crate::guard::Operator`].
    pub admin_token: Option<Token>,
    /// The token publishers must show (`--ingest-token` or its file); `None`: publishing is
    /// open.
    pub ingest_token: Option<Token>,
    /// What no client can exceed: timeouts, connections, lag, ingest rate.
    pub limits: Limits,
}

/// The limits a client cannot exhaust, each enforced by the library that owns it (see
/// the accept loop, `serve.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// hyper's header-read timeout, which it also runs while a kept-alive connection idles.
    pub header_timeout: Duration,
    /// tower-http's request-body timeout.
    pub body_timeout: Duration,
    /// Connections open at once, WebSockets included.
    pub max_connections: usize,
    /// Frames a live-stream client may fall behind during one stuck send before it is dropped.
    pub ws_max_lag: u64,
    /// Events per second one client address may post to `/api/events` (a second's burst).
    pub ingest_rate_per_client: u32,
    /// Kernel send buffer of each accepted connection, bytes; 0: the kernel's auto-tuning.
    pub socket_send_buffer: usize,
}

impl From<Settings> for ServerConfig {
    fn from(s: Settings) -> Self {
        let mut pipeline = PipelineConfig::default();
        pipeline.processors.concurrency = s.processors as usize;
        pipeline.processors.max_concurrency = s.max_processors.map(|n| n as usize);
        pipeline.processors.max_demand = s.max_demand as usize;
        pipeline.batchers[0].batch_size = s.batch_size as usize;
        pipeline.batchers[0].batch_timeout = Duration::from_millis(s.batch_timeout_ms);
        pipeline.retry = (s.retry_attempts > 1).then(|| {
            let default = RetryPolicy::default();
            let backoff = Duration::from_millis(s.retry_backoff_ms);
            RetryPolicy {
                max_attempts: s.retry_attempts,
                backoff,
                max_backoff: default.max_backoff.max(backoff),
                ..default
            }
        });
        pipeline.rate_limit =
            s.rate_limit_per_s.map(|n| RateLimit { allowed_messages: n, interval: Duration::from_secs(1) });
        Self {
            addr: s.addr.unwrap_or(s.site_addr),
            allowed_hosts: s.allowed_hosts,
            site_root: s.site_root,
            site_pkg_dir: s.site_pkg_dir,
            output_name: s.output_name,
            env: match s.env {
                LeptosEnv::Dev => Env::DEV,
                LeptosEnv::Prod => Env::PROD,
            },
            topic: "events".into(),
            buffer: s.buffer as usize,
            overflow: Overflow::Block,
            pipeline,
            pipeline_threads: s.pipeline_threads as usize,
            drain_timeout: Duration::from_millis(s.drain_timeout_ms),
            data_dir: s.data_dir,
            dlq_capacity: s.dlq_capacity as usize,
            bus: match s.bus {
                BusSetting::Embedded => None,
                BusSetting::Redis(url) => Some(BusConfig {
                    url,
                    node: s.node_name.unwrap_or_else(default_node_name),
                    backlog_bound: s.bus_backlog,
                    read_ahead: s.bus_read_ahead as usize,
                    entry_max: s.bus_entry_max as usize,
                    max_deliveries: s.bus_max_deliveries,
                    heartbeat_ttl: Duration::from_millis(s.heartbeat_ttl_ms),
                    addr: s.addr.unwrap_or(s.site_addr).to_string(),
                    record_acks: s.record_acks,
                }),
            },
            admin_token: s.admin_token.or(s.admin_token_file),
            ingest_token: s.ingest_token.or(s.ingest_token_file),
            limits: Limits {
                header_timeout: Duration::from_millis(s.header_timeout_ms),
                body_timeout: Duration::from_millis(s.body_timeout_ms),
                max_connections: s.max_connections as usize,
                ws_max_lag: u64::from(s.ws_max_lag),
                ingest_rate_per_client: s.ingest_rate_per_client,
                socket_send_buffer: s.socket_send_buffer as usize,
            },
        }
    }
}

/// `<hostname>-<pid>`: unique on one machine, readable in the cluster view.
fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "pulse".into());
    format!("{host}-{}", std::process::id())
}

impl Default for ServerConfig {
    /// The settings' defaults.
    fn default() -> Self {
        Settings::defaults().into()
    }
}

impl ServerConfig {
    /// The dead-letter store's file: `dead_letters.redb` in the data directory.
    pub fn dlq_path(&self) -> PathBuf {
        self.data_dir.join("dead_letters.redb")
    }

    /// The Leptos options the renderer and file server need.
    pub fn leptos_options(&self) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name(self.output_name.as_str())
            .site_root(self.site_root.as_str())
            .site_pkg_dir(self.site_pkg_dir.as_str())
            .site_addr(self.addr)
            .env(self.env.clone())
            .build()
    }
}
