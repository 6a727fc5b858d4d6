//! Server settings, read from the environment with defaults that run Pulse embedded on
//! `127.0.0.1:3000` with nothing else to start.

use crate::pipeline::{PipelineConfig, RateLimit, RetryPolicy};
use crate::pubsub::Overflow;
use leptos::config::{Env, LeptosOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `run` needs besides a listener.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen (`PULSE_ADDR`, else `LEPTOS_SITE_ADDR`, else `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// Built site: `LEPTOS_SITE_ROOT` (default `target/site`) with the WASM bundle under `pkg`.
    pub site_root: String,
    /// `LEPTOS_SITE_PKG_DIR` (default `pkg`).
    pub site_pkg_dir: String,
    /// `LEPTOS_OUTPUT_NAME` (default `pulse`): the bundle's file names.
    pub output_name: String,
    /// `LEPTOS_ENV` (`DEV` enables cargo-leptos' live reload; default `PROD`).
    pub env: Env,
    /// The topic ingest publishes on and the pipeline's producer subscribes to (`events`).
    pub topic: String,
    /// The producer's subscription buffer, in messages (`PULSE_BUFFER`, default 65 536).
    pub buffer: usize,
    /// What a full buffer does to publishers (default: block them).
    pub overflow: Overflow,
    /// How the pipeline is shaped: `PULSE_PROCESSORS` (2), `PULSE_MAX_PROCESSORS` (16: the
    /// most the concurrency can be raised to at run time), `PULSE_MAX_DEMAND` (10),
    /// `PULSE_BATCH_SIZE` (100), `PULSE_BATCH_TIMEOUT_MS` (50); retries `PULSE_RETRY_ATTEMPTS`
    /// (3 attempts in all; 1 turns retries off), `PULSE_RETRY_BACKOFF_MS` (100, doubling, with
    /// 50 % jitter, at most 5 s); `PULSE_RATE_LIMIT_PER_S` (none).
    pub pipeline: PipelineConfig,
    /// Worker threads of the pipeline's own runtime (`PULSE_PIPELINE_THREADS`, default 1).
    /// HTTP, WebSockets and publishers run on the main runtime; the data plane gets its own
    /// (measured on 2 cores: one pipeline worker beats two, both in throughput and latency).
    pub pipeline_threads: usize,
    /// Longest the pipeline may take to drain on shutdown (`PULSE_DRAIN_TIMEOUT_MS`, default
    /// 10 000).
    pub drain_timeout: Duration,
    /// Where Pulse keeps state that must survive a restart (`PULSE_DATA_DIR`, default `data`,
    /// relative to the working directory like the site root; point it at a volume in
    /// production). Created on first use.
    pub data_dir: PathBuf,
    /// The most entries the dead-letter queue keeps before evicting (and counting) the oldest
    /// (`PULSE_DLQ_CAPACITY`, default 10 000).
    pub dlq_capacity: usize,
}

/// A setting that could not be understood; startup stops with this message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}={value:?}: {why}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub why: &'static str,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: "target/site".into(),
            site_pkg_dir: "pkg".into(),
            output_name: "pulse".into(),
            env: Env::PROD,
            topic: "events".into(),
            buffer: 65_536,
            overflow: Overflow::Block,
            pipeline: PipelineConfig { retry: Some(RetryPolicy::default()), ..PipelineConfig::default() },
            pipeline_threads: 1,
            drain_timeout: Duration::from_secs(10),
            data_dir: PathBuf::from("data"),
            dlq_capacity: 10_000,
        }
    }
}

impl ServerConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = Self::default();
        if let Some((name, v)) = get("PULSE_ADDR")
            .map(|v| ("PULSE_ADDR", v))
            .or_else(|| get("LEPTOS_SITE_ADDR").map(|v| ("LEPTOS_SITE_ADDR", v)))
        {
            c.addr = v.parse().map_err(|_| ConfigError {
                name,
                value: v,
                why: "expected host:port, e.g. 127.0.0.1:3000",
            })?;
        }
        if let Some(v) = get("LEPTOS_SITE_ROOT") {
            c.site_root = v;
        }
        if let Some(v) = get("LEPTOS_SITE_PKG_DIR") {
            c.site_pkg_dir = v;
        }
        if let Some(v) = get("LEPTOS_OUTPUT_NAME") {
            c.output_name = v;
        }
        if let Some(v) = get("LEPTOS_ENV") {
            c.env = match v.to_ascii_uppercase().as_str() {
                "DEV" | "DEVELOPMENT" => Env::DEV,
                "PROD" | "PRODUCTION" => Env::PROD,
                _ => return Err(ConfigError { name: "LEPTOS_ENV", value: v, why: "expected DEV or PROD" }),
            };
        }
        if let Some(v) = get("PULSE_DRAIN_TIMEOUT_MS") {
            let ms: u64 = v.parse().map_err(|_| ConfigError {
                name: "PULSE_DRAIN_TIMEOUT_MS",
                value: v,
                why: "expected milliseconds",
            })?;
            c.drain_timeout = Duration::from_millis(ms);
        }
        let count = |name: &'static str, v: String| -> Result<usize, ConfigError> {
            match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError { name, value: v, why: "expected a whole number of at least 1" }),
            }
        };
        if let Some(v) = get("PULSE_BUFFER") {
            c.buffer = count("PULSE_BUFFER", v)?;
        }
        if let Some(v) = get("PULSE_PIPELINE_THREADS") {
            c.pipeline_threads = count("PULSE_PIPELINE_THREADS", v)?;
        }
        if let Some(v) = get("PULSE_PROCESSORS") {
            c.pipeline.processors.concurrency = count("PULSE_PROCESSORS", v)?;
        }
        if let Some(v) = get("PULSE_MAX_PROCESSORS") {
            let max = count("PULSE_MAX_PROCESSORS", v.clone())?;
            if max > 1024 {
                return Err(ConfigError { name: "PULSE_MAX_PROCESSORS", value: v, why: "at most 1024" });
            }
            c.pipeline.processors.max_concurrency = Some(max);
        }
        if let Some(v) = get("PULSE_RETRY_ATTEMPTS") {
            let attempts = count("PULSE_RETRY_ATTEMPTS", v.clone())?;
            let attempts = u32::try_from(attempts).map_err(|_| ConfigError {
                name: "PULSE_RETRY_ATTEMPTS",
                value: v,
                why: "too large",
            })?;
            c.pipeline.retry = (attempts > 1)
                .then(|| RetryPolicy { max_attempts: attempts, ..c.pipeline.retry.unwrap_or_default() });
        }
        if let Some(v) = get("PULSE_RETRY_BACKOFF_MS") {
            let ms = count("PULSE_RETRY_BACKOFF_MS", v.clone())? as u64;
            if let Some(r) = c.pipeline.retry.as_mut() {
                r.backoff = Duration::from_millis(ms);
                r.max_backoff = r.max_backoff.max(r.backoff);
            }
        }
        if let Some(v) = get("PULSE_RATE_LIMIT_PER_S") {
            let n = count("PULSE_RATE_LIMIT_PER_S", v)? as u64;
            c.pipeline.rate_limit = Some(RateLimit { allowed_messages: n, interval: Duration::from_secs(1) });
        }
        if let Some(v) = get("PULSE_MAX_DEMAND") {
            c.pipeline.processors.max_demand = count("PULSE_MAX_DEMAND", v)?;
        }
        if let Some(v) = get("PULSE_BATCH_SIZE") {
            c.pipeline.batchers[0].batch_size = count("PULSE_BATCH_SIZE", v)?;
        }
        if let Some(v) = get("PULSE_BATCH_TIMEOUT_MS") {
            c.pipeline.batchers[0].batch_timeout =
                Duration::from_millis(count("PULSE_BATCH_TIMEOUT_MS", v)? as u64);
        }
        if let Some(v) = get("PULSE_DATA_DIR") {
            if v.trim().is_empty() {
                return Err(ConfigError {
                    name: "PULSE_DATA_DIR",
                    value: v,
                    why: "expected a directory path",
                });
            }
            c.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("PULSE_DLQ_CAPACITY") {
            c.dlq_capacity = count("PULSE_DLQ_CAPACITY", v)?;
        }
        Ok(c)
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<ServerConfig, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ServerConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_run_embedded_on_port_3000() {
        let c = from(&[]).expect("defaults");
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.site_root, "target/site");
    }

    #[test]
    fn pulse_addr_wins_over_leptos_site_addr() {
        let c = from(&[("PULSE_ADDR", "0.0.0.0:8080"), ("LEPTOS_SITE_ADDR", "127.0.0.1:1")]).expect("valid");
        assert_eq!(c.addr.to_string(), "0.0.0.0:8080");
    }

    #[test]
    fn bad_values_say_which_setting() {
        let e = from(&[("PULSE_ADDR", "localhost")]).expect_err("no port");
        assert_eq!(e.name, "PULSE_ADDR");
        assert!(from(&[("LEPTOS_ENV", "staging")]).is_err());
        assert!(from(&[("PULSE_DRAIN_TIMEOUT_MS", "soon")]).is_err());
        assert_eq!(from(&[("PULSE_PROCESSORS", "0")]).expect_err("zero").name, "PULSE_PROCESSORS");
        assert!(from(&[("PULSE_BATCH_SIZE", "-3")]).is_err());
    }

    #[test]
    fn pipeline_shape_comes_from_the_environment() {
        let c =
            from(&[("PULSE_PROCESSORS", "4"), ("PULSE_MAX_DEMAND", "256"), ("PULSE_BATCH_TIMEOUT_MS", "20")])
                .expect("valid");
        assert_eq!((c.pipeline.processors.concurrency, c.pipeline.processors.max_demand), (4, 256));
        assert_eq!(c.pipeline.batchers[0].batch_timeout, Duration::from_millis(20));
        assert_eq!(from(&[]).expect("defaults").pipeline_threads, 1);
        assert_eq!(from(&[("PULSE_PIPELINE_THREADS", "2")]).expect("valid").pipeline_threads, 2);
    }

    #[test]
    fn controls_come_from_the_environment() {
        let defaults = from(&[]).expect("defaults");
        assert_eq!(defaults.pipeline.retry.map(|r| r.max_attempts), Some(3), "retries are on by default");
        assert_eq!(defaults.pipeline.rate_limit, None);
        let c = from(&[
            ("PULSE_RETRY_ATTEMPTS", "5"),
            ("PULSE_RETRY_BACKOFF_MS", "250"),
            ("PULSE_MAX_PROCESSORS", "8"),
            ("PULSE_RATE_LIMIT_PER_S", "1000"),
        ])
        .expect("valid");
        let retry = c.pipeline.retry.expect("on");
        assert_eq!((retry.max_attempts, retry.backoff), (5, Duration::from_millis(250)));
        assert_eq!(c.pipeline.processors.max_concurrency, Some(8));
        assert_eq!(c.pipeline.rate_limit.map(|r| r.allowed_messages), Some(1000));
        assert_eq!(from(&[("PULSE_RETRY_ATTEMPTS", "1")]).expect("valid").pipeline.retry, None);
        assert!(from(&[("PULSE_MAX_PROCESSORS", "5000")]).is_err());
        assert!(from(&[("PULSE_RATE_LIMIT_PER_S", "0")]).is_err());
    }

    #[test]
    fn data_dir_and_dlq_capacity_come_from_the_environment() {
        let c = from(&[]).expect("defaults");
        assert_eq!((c.data_dir.as_path(), c.dlq_capacity), (std::path::Path::new("data"), 10_000));
        assert_eq!(c.dlq_path(), PathBuf::from("data/dead_letters.redb"));
        let c = from(&[("PULSE_DATA_DIR", "/var/lib/pulse"), ("PULSE_DLQ_CAPACITY", "500")]).expect("valid");
        assert_eq!(c.dlq_path(), PathBuf::from("/var/lib/pulse/dead_letters.redb"));
        assert_eq!(c.dlq_capacity, 500);
        assert_eq!(from(&[("PULSE_DLQ_CAPACITY", "0")]).expect_err("zero").name, "PULSE_DLQ_CAPACITY");
        assert_eq!(from(&[("PULSE_DLQ_CAPACITY", "lots")]).expect_err("nan").name, "PULSE_DLQ_CAPACITY");
        assert_eq!(from(&[("PULSE_DATA_DIR", " ")]).expect_err("blank").name, "PULSE_DATA_DIR");
    }
}
