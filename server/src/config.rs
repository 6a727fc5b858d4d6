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

use crate::pipeline::{PipelineConfig, RateLimit, RetryPolicy};
use crate::pubsub::Overflow;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use leptos::config::{Env, LeptosOptions};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `run` needs besides a listener. Built from [`Settings`] (its `Default` is the
/// settings' defaults); tests build it field by field.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen (`--addr` / `PULSE_ADDR`, else `--site-addr` / `LEPTOS_SITE_ADDR`).
    pub addr: SocketAddr,
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
}

const SERVER: &str = "Server";
const PIPELINE: &str = "Pipeline";
const DEAD_LETTERS: &str = "Dead letters";
const LOGGING: &str = "Logging";
const LEPTOS: &str = "Leptos (set by cargo-leptos and scripts/run.sh)";

/// Every setting the server reads, from its command line and its environment.
///
/// Each numeric setting states its range twice, in its `value_parser` and as `[range: ..]` in
/// its help (clap prints no ranges itself); `help_ranges_are_the_parsers_ranges` checks they
/// agree.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "server",
    version,
    about = "Pulse: pub/sub, a Broadway-style pipeline, HTTP ingest and the live dashboard, in one \
             binary. Every setting is a flag or an environment variable (the flag wins); an \
             empty variable counts as unset.",
    long_about = None,
    next_line_help = true
)]
pub struct Settings {
    /// Where to listen, host:port; wins over --site-addr [default: --site-addr]
    #[arg(long, env = "PULSE_ADDR", value_name = "HOST:PORT", help_heading = SERVER)]
    pub addr: Option<SocketAddr>,

    /// Where to listen when --addr is not given (cargo-leptos sets this one)
    #[arg(long, env = "LEPTOS_SITE_ADDR", value_name = "HOST:PORT", default_value = "127.0.0.1:3000",
          help_heading = SERVER)]
    pub site_addr: SocketAddr,

    /// Longest the pipeline may take to drain on shutdown, milliseconds [range: 0..=3600000]
    #[arg(long, env = "PULSE_DRAIN_TIMEOUT_MS", value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000), help_heading = SERVER)]
    pub drain_timeout_ms: u64,

    /// The pipeline's subscription buffer, messages [range: 1..=16777216]
    #[arg(long, env = "PULSE_BUFFER", value_name = "N", default_value_t = 65_536,
          value_parser = clap::value_parser!(u32).range(1..=16_777_216), help_heading = PIPELINE)]
    pub buffer: u32,

    /// Processors running handle_message side by side [range: 1..=1024]
    #[arg(long, env = "PULSE_PROCESSORS", value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=1024), help_heading = PIPELINE)]
    pub processors: u32,

    /// Most processors the concurrency can be raised to at run time [default: 16, or
    /// --processors if higher] [range: 1..=1024]
    #[arg(long, env = "PULSE_MAX_PROCESSORS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1024), help_heading = PIPELINE)]
    pub max_processors: Option<u32>,

    /// Most messages a processor holds (pulled, not yet handled) [range: 1..=100000]
    #[arg(long, env = "PULSE_MAX_DEMAND", value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100_000), help_heading = PIPELINE)]
    pub max_demand: u32,

    /// Messages per batch [range: 1..=100000]
    #[arg(long, env = "PULSE_BATCH_SIZE", value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=100_000), help_heading = PIPELINE)]
    pub batch_size: u32,

    /// Longest a partial batch waits after its first message, milliseconds [range: 1..=3600000]
    #[arg(long, env = "PULSE_BATCH_TIMEOUT_MS", value_name = "MS", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000), help_heading = PIPELINE)]
    pub batch_timeout_ms: u64,

    /// Worker threads of the pipeline's own runtime (HTTP and WebSockets run on another)
    /// [range: 1..=64]
    #[arg(long, env = "PULSE_PIPELINE_THREADS", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64), help_heading = PIPELINE)]
    pub pipeline_threads: u32,

    /// Attempts a message gets in all; 1 turns retries off [range: 1..=100]
    #[arg(long, env = "PULSE_RETRY_ATTEMPTS", value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=100), help_heading = PIPELINE)]
    pub retry_attempts: u32,

    /// First wait before a retry, milliseconds; doubles, 50 % jitter, at most 5 s (or this)
    /// [range: 1..=600000]
    #[arg(long, env = "PULSE_RETRY_BACKOFF_MS", value_name = "MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=600_000), help_heading = PIPELINE)]
    pub retry_backoff_ms: u64,

    /// Most messages leaving the producer per second [default: no limit] [range: 1..]
    #[arg(long, env = "PULSE_RATE_LIMIT_PER_S", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..), help_heading = PIPELINE)]
    pub rate_limit_per_s: Option<u64>,

    /// Where state that survives a restart lives (the dead-letter store,
    /// DIR/dead_letters.redb); created on first use
    #[arg(long, env = "PULSE_DATA_DIR", value_name = "DIR", default_value = "data",
          value_parser = non_blank_path, help_heading = DEAD_LETTERS)]
    pub data_dir: PathBuf,

    /// Dead letters kept; beyond it the oldest are evicted and counted [range: 1..=100000000]
    #[arg(long, env = "PULSE_DLQ_CAPACITY", value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=100_000_000), help_heading = DEAD_LETTERS)]
    pub dlq_capacity: u32,

    /// What is printed, a tracing filter (e.g. `warn,pulse_server=debug`)
    #[arg(long, env = "RUST_LOG", value_name = "FILTER", default_value = "info",
          value_parser = log_filter, help_heading = LOGGING)]
    pub log: String,

    /// What the dashboard's log tail keeps, whatever is printed: a tracing filter
    #[arg(long, env = "PULSE_LOG_TAIL", value_name = "FILTER", default_value = "info",
          value_parser = log_filter, help_heading = LOGGING)]
    pub log_tail: String,

    /// How printed lines look: text, or one JSON object per line
    #[arg(long, env = "PULSE_LOG_FORMAT", value_name = "FORMAT", default_value = "text",
          ignore_case = true, help_heading = LOGGING)]
    pub log_format: LogFormat,

    /// Same as --log-format json
    #[arg(long, help_heading = LOGGING)]
    pub json_logs: bool,

    /// The built site: the WASM bundle is under DIR/<site-pkg-dir>
    #[arg(long, env = "LEPTOS_SITE_ROOT", value_name = "DIR", default_value = "target/site",
          help_heading = LEPTOS)]
    pub site_root: String,

    /// The bundle's directory under the site root (and its URL path)
    #[arg(long, env = "LEPTOS_SITE_PKG_DIR", value_name = "DIR", default_value = "pkg",
          help_heading = LEPTOS)]
    pub site_pkg_dir: String,

    /// The bundle's file names (NAME.js, NAME.wasm); also fixed at compile time, see
    /// .cargo/config.toml
    #[arg(long, env = "LEPTOS_OUTPUT_NAME", value_name = "NAME", default_value = "pulse",
          help_heading = LEPTOS)]
    pub output_name: String,

    /// DEV turns on cargo-leptos' live reload
    #[arg(long, env = "LEPTOS_ENV", value_name = "ENV", default_value = "PROD", ignore_case = true,
          help_heading = LEPTOS)]
    pub env: LeptosEnv,
}

/// How printed log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Leptos' environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LeptosEnv {
    #[value(name = "DEV", alias = "DEVELOPMENT")]
    Dev,
    #[value(name = "PROD", alias = "PRODUCTION")]
    Prod,
}

/// A directory path that is not blank.
fn non_blank_path(v: &str) -> Result<PathBuf, String> {
    if v.trim().is_empty() { Err("expected a directory path".into()) } else { Ok(PathBuf::from(v)) }
}

/// A `tracing` filter directive that parses.
fn log_filter(v: &str) -> Result<String, String> {
    tracing_subscriber::filter::EnvFilter::try_new(v).map(|_| v.to_owned()).map_err(|e| e.to_string())
}

impl Settings {
    /// The process's settings: its command line and environment. Prints help, the version or
    /// what was wrong (naming the flag and its variable) and exits, as clap does.
    pub fn from_process() -> Self {
        Self::parse_with_env(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses `args` (the first is the program name) and the environment.
    pub fn parse_with_env<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::parse(args, true)
    }

    /// Parses `args` (the first is the program name) alone, whatever the environment holds.
    pub fn parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::parse(args, false)
    }

    fn parse<I, T>(args: I, env: bool) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut cmd = Self::command().mut_args(|a| {
            // An empty variable counts as unset; without `env`, none is read.
            // (Such an argument's `--help` entry then lacks its variable; nothing else changes.)
            let empty = a.get_env().is_some_and(|name| std::env::var_os(name).is_some_and(|v| v.is_empty()));
            if !env || empty { a.env(None) } else { a }
        });
        let parsed = cmd.try_get_matches_from_mut(args).and_then(|m| Self::from_arg_matches(&m));
        parsed.map_err(|e| with_variable(e.format(&mut cmd)))
    }

    /// Every setting at its default (no command line, no environment).
    pub fn defaults() -> Self {
        Self::parse_args(["server"]).expect("the schema's defaults parse")
    }

    /// Whether printed log lines are JSON.
    pub fn json_logs(&self) -> bool {
        self.json_logs || self.log_format == LogFormat::Json
    }
}

/// Adds the environment variable to a bad value's message (clap names only the flag).
fn with_variable(mut e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(e.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) {
        return e;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else { return e };
    let flag = arg.split_whitespace().next().unwrap_or_default().to_owned();
    let cmd = Settings::command();
    let Some(var) = cmd
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|l| flag == format!("--{l}")))
        .and_then(|a| a.get_env())
    else {
        return e;
    };
    let tip = format!("this setting is {flag} or the environment variable {}", var.to_string_lossy());
    e.insert(ContextKind::Suggested, ContextValue::StyledStrs(vec![tip.into()]));
    e
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
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    /// The settings of a command line (no environment), as the server takes them.
    fn from(args: &[&str]) -> Result<ServerConfig, clap::Error> {
        Settings::parse_args(std::iter::once("server").chain(args.iter().copied())).map(ServerConfig::from)
    }

    /// The message a bad command line stops the server with.
    fn refused(args: &[&str]) -> String {
        from(args).expect_err("refused").to_string()
    }

    #[test]
    fn defaults_run_embedded_on_port_3000() {
        let c = from(&[]).expect("defaults");
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(
            (c.site_root.as_str(), c.site_pkg_dir.as_str(), c.output_name.as_str()),
            ("target/site", "pkg", "pulse")
        );
        assert_eq!(c.env, Env::PROD);
        assert_eq!(
            (c.buffer, c.drain_timeout, c.topic.as_str()),
            (65_536, Duration::from_secs(10), "events")
        );
    }

    #[test]
    fn the_defaults_are_the_engines_own() {
        let c = ServerConfig::default();
        let engine = PipelineConfig::default();
        assert_eq!(c.pipeline.processors, engine.processors, "processors, demand, max concurrency");
        assert_eq!(c.pipeline.batchers, engine.batchers);
        assert_eq!(c.pipeline.retry, Some(RetryPolicy::default()), "retries are on by default");
        assert_eq!(c.pipeline.rate_limit, None);
        assert_eq!(c.pipeline.processors.max_concurrency(), 16);
    }

    #[test]
    fn addr_wins_over_leptos_site_addr() {
        let c = from(&["--addr", "0.0.0.0:8080", "--site-addr", "127.0.0.1:1"]).expect("valid");
        assert_eq!(c.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(from(&["--site-addr", "127.0.0.1:1"]).expect("valid").addr.to_string(), "127.0.0.1:1");
    }

    #[test]
    fn bad_values_say_which_setting_flag_and_variable() {
        let why = refused(&["--addr", "localhost"]);
        assert!(why.contains("--addr") && why.contains("PULSE_ADDR"), "{why}");
        let why = refused(&["--processors", "0"]);
        assert!(why.contains("--processors") && why.contains("PULSE_PROCESSORS"), "{why}");
        assert!(refused(&["--env", "staging"]).contains("LEPTOS_ENV"));
        assert!(refused(&["--drain-timeout-ms", "soon"]).contains("PULSE_DRAIN_TIMEOUT_MS"));
        assert!(refused(&["--batch-size=-3"]).contains("--batch-size"));
        assert!(refused(&["--log", "[[["]).contains("RUST_LOG"));
        let unknown = Settings::parse_args(["server", "--processers", "3"]).expect_err("no such flag");
        assert_eq!(unknown.kind(), ErrorKind::UnknownArgument);
    }

    #[test]
    fn pipeline_shape_comes_from_the_settings() {
        let c =
            from(&["--processors", "4", "--max-demand", "256", "--batch-timeout-ms", "20"]).expect("valid");
        assert_eq!((c.pipeline.processors.concurrency, c.pipeline.processors.max_demand), (4, 256));
        assert_eq!(c.pipeline.batchers[0].batch_timeout, Duration::from_millis(20));
        assert_eq!(from(&[]).expect("defaults").pipeline_threads, 1);
        assert_eq!(from(&["--pipeline-threads", "2"]).expect("valid").pipeline_threads, 2);
        assert_eq!(from(&["--processors", "20"]).expect("valid").pipeline.processors.max_concurrency(), 20);
    }

    #[test]
    fn controls_come_from_the_settings() {
        let c = from(&[
            "--retry-attempts",
            "5",
            "--retry-backoff-ms",
            "250",
            "--max-processors",
            "8",
            "--rate-limit-per-s",
            "1000",
        ])
        .expect("valid");
        let retry = c.pipeline.retry.expect("on");
        assert_eq!((retry.max_attempts, retry.backoff), (5, Duration::from_millis(250)));
        assert_eq!(c.pipeline.processors.max_concurrency, Some(8));
        assert_eq!(c.pipeline.rate_limit.map(|r| r.allowed_messages), Some(1000));
        assert_eq!(from(&["--retry-attempts", "1"]).expect("valid").pipeline.retry, None);
        let slow = from(&["--retry-backoff-ms", "9000"]).expect("valid").pipeline.retry.expect("on");
        assert_eq!(slow.max_backoff, Duration::from_secs(9), "the cap is never below the first wait");
        assert!(from(&["--max-processors", "5000"]).is_err());
        assert!(from(&["--rate-limit-per-s", "0"]).is_err());
    }

    #[test]
    fn data_dir_and_dlq_capacity_come_from_the_settings() {
        let c = from(&[]).expect("defaults");
        assert_eq!((c.data_dir.as_path(), c.dlq_capacity), (std::path::Path::new("data"), 10_000));
        assert_eq!(c.dlq_path(), PathBuf::from("data/dead_letters.redb"));
        let c = from(&["--data-dir", "/var/lib/pulse", "--dlq-capacity", "500"]).expect("valid");
        assert_eq!(c.dlq_path(), PathBuf::from("/var/lib/pulse/dead_letters.redb"));
        assert_eq!(c.dlq_capacity, 500);
        assert!(refused(&["--dlq-capacity", "0"]).contains("PULSE_DLQ_CAPACITY"));
        assert!(refused(&["--dlq-capacity", "lots"]).contains("PULSE_DLQ_CAPACITY"));
        assert!(refused(&["--data-dir", " "]).contains("PULSE_DATA_DIR"));
    }

    #[test]
    fn logging_settings() {
        let s = |args: &[&str]| Settings::parse_args(std::iter::once("server").chain(args.iter().copied()));
        assert!(!s(&[]).expect("defaults").json_logs());
        assert!(s(&["--json-logs"]).expect("valid").json_logs());
        assert!(s(&["--log-format", "json"]).expect("valid").json_logs());
        assert!(s(&["--log-format", "JSON"]).expect("valid").json_logs(), "any case");
        assert!(!s(&["--log-format", "text"]).expect("valid").json_logs());
        assert!(s(&["--log-format", "yaml"]).is_err());
        let custom = s(&["--log", "warn,pulse_server=debug", "--log-tail", "error"]).expect("valid");
        assert_eq!((custom.log.as_str(), custom.log_tail.as_str()), ("warn,pulse_server=debug", "error"));
        assert_eq!(from(&["--env", "dev"]).expect("any case").env, Env::DEV);
        assert_eq!(from(&["--env", "production"]).expect("alias").env, Env::PROD);
    }

    /// The `[range: A..=B]` (or `A..`) tag of each setting's help, as (flag, low, high).
    fn help_ranges() -> Vec<(String, u64, Option<u64>)> {
        Settings::command()
            .get_arguments()
            .filter_map(|a| {
                let help = a.get_help()?.to_string();
                let tag = help.split("[range: ").nth(1)?.split(']').next()?.to_owned();
                let (low, high) = tag.split_once("..").expect("A..B");
                let low = low.parse().expect("a number");
                let high = high.strip_prefix('=').map(|h| h.parse().expect("a number"));
                Some((format!("--{}", a.get_long().expect("a flag")), low, high))
            })
            .collect()
    }

    #[test]
    fn help_ranges_are_the_parsers_ranges() {
        let ranges = help_ranges();
        assert!(ranges.len() >= 12, "every numeric setting states its range: {ranges:?}");
        let parses = |flag: &str, v: u64| Settings::parse_args(["server", flag, &v.to_string()]).is_ok();
        for (flag, low, high) in ranges {
            assert!(parses(&flag, low), "{flag} {low}: the low end is in range");
            assert!(low == 0 || !parses(&flag, low - 1), "{flag} {}: below the range", low - 1);
            if let Some(high) = high {
                assert!(parses(&flag, high), "{flag} {high}: the high end is in range");
                assert!(!parses(&flag, high + 1), "{flag} {}: above the range", high + 1);
            }
        }
    }

    #[test]
    fn every_setting_has_a_variable() {
        for a in Settings::command().get_arguments() {
            let flag = a.get_long().unwrap_or_default();
            let shorthand = matches!(flag, "json-logs" | "help" | "version");
            assert!(shorthand || a.get_env().is_some(), "--{flag} has no environment variable");
        }
    }

    #[test]
    fn the_schema_is_consistent() {
        Settings::command().debug_assert();
    }
}
