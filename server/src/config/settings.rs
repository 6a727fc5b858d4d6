//! The settings schema: every setting once, with its flag, environment variable, default,
//! range and help (clap derive), and the parsing that names the variable of a bad value.

use crate::bus::BusSetting;
use crate::guard::{AllowedHost, Token};
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

const SERVER: &str = "Server";
const ACCESS: &str = "Access";
const LIMITS: &str = "Limits";
const PIPELINE: &str = "Pipeline";
const DEAD_LETTERS: &str = "Dead letters";
const LOGGING: &str = "Logging";
const LEPTOS: &str = "Leptos (set by cargo-leptos and scripts/run.sh)";
const CLUSTER: &str = "Cluster (several nodes sharing the work through Redis)";

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

    /// Host names (host or host:port, comma-separated; without a port: any port) the server
    /// answers for; any other Host header gets 421 (this defeats DNS rebinding). Given, it
    /// replaces the default [default: the listen address; localhost, 127.0.0.1 and ::1 at its
    /// port]
    #[arg(long, env = "PULSE_ALLOWED_HOSTS", value_name = "HOSTS", value_delimiter = ',',
          value_parser = allowed_host, help_heading = SERVER)]
    pub allowed_hosts: Vec<AllowedHost>,

    /// Longest the pipeline may take to drain on shutdown, milliseconds [range: 0..=3600000]
    #[arg(long, env = "PULSE_DRAIN_TIMEOUT_MS", value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000), help_heading = SERVER)]
    pub drain_timeout_ms: u64,

    /// The operator's token: with it, the destructive controls (kill, crash, pause,
    /// concurrency, rate limit, simulator, taps, replay, purge) need it on any listener;
    /// without it they work only on a loopback listener [default: none] [length: 16..]
    #[arg(long, env = "PULSE_ADMIN_TOKEN", value_name = "TOKEN", value_parser = token,
          hide_env_values = true, conflicts_with = "admin_token_file", help_heading = ACCESS)]
    pub admin_token: Option<Token>,

    /// A file holding the operator's token (its first line), instead of --admin-token
    #[arg(long, env = "PULSE_ADMIN_TOKEN_FILE", value_name = "FILE", value_parser = token_file,
          help_heading = ACCESS)]
    pub admin_token_file: Option<Token>,

    /// A token publishers must send (`Authorization: Bearer`) to POST /api/events and to
    /// publish from the page; the operator's token also does [default: none, publishing is
    /// open] [length: 16..]
    #[arg(long, env = "PULSE_INGEST_TOKEN", value_name = "TOKEN", value_parser = token,
          hide_env_values = true, conflicts_with = "ingest_token_file", help_heading = ACCESS)]
    pub ingest_token: Option<Token>,

    /// A file holding the ingest token (its first line), instead of --ingest-token
    #[arg(long, env = "PULSE_INGEST_TOKEN_FILE", value_name = "FILE", value_parser = token_file,
          help_heading = ACCESS)]
    pub ingest_token_file: Option<Token>,

    /// Longest a connection may take to send a request's headers, counted from when it opened
    /// or its last answer ended (so this is also the idle keep-alive timeout), milliseconds
    /// [range: 100..=600000]
    #[arg(long, env = "PULSE_HEADER_TIMEOUT_MS", value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000), help_heading = LIMITS)]
    pub header_timeout_ms: u64,

    /// Longest a request may take to send its body, milliseconds [range: 100..=600000]
    #[arg(long, env = "PULSE_BODY_TIMEOUT_MS", value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000), help_heading = LIMITS)]
    pub body_timeout_ms: u64,

    /// Most connections open at once, WebSockets included; past it a connection gets 503
    /// [range: 1..=1000000]
    #[arg(long, env = "PULSE_MAX_CONNECTIONS", value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), help_heading = LIMITS)]
    pub max_connections: u32,

    /// Frames a live-stream client may fall behind while one send is stuck (it does not
    /// read) before it is dropped; at 10 frames a second [range: 1..=100000]
    #[arg(long, env = "PULSE_WS_MAX_LAG", value_name = "FRAMES", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=100_000), help_heading = LIMITS)]
    pub ws_max_lag: u32,

    /// Kernel send buffer of each connection, bytes: what a client that stops reading can
    /// leave queued before its sends stall (then --ws-max-lag drops a live stream); 0 keeps
    /// the kernel's auto-tuning (up to 4 MiB on Linux) [range: 0..=67108864]
    #[arg(long, env = "PULSE_SOCKET_SEND_BUFFER", value_name = "BYTES", default_value_t = 262_144,
          value_parser = clap::value_parser!(u32).range(0..=67_108_864), help_heading = LIMITS)]
    pub socket_send_buffer: u32,

    /// Most events one client (IP address) may post to /api/events per second, bursts of up
    /// to a second's worth; past it 429 with Retry-After [range: 1..=100000000]
    #[arg(long, env = "PULSE_INGEST_RATE_PER_CLIENT", value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u32).range(1..=100_000_000), help_heading = LIMITS)]
    pub ingest_rate_per_client: u32,

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

    /// Where events travel: `embedded` (this process alone), or a Redis server shared by every
    /// node, redis://HOST:PORT (Redis 6.2 or later; run it with --appendonly yes)
    #[arg(long, env = "PULSE_BUS", value_name = "BUS", default_value = "embedded",
          value_parser = clap::builder::ValueParser::new(bus_setting), help_heading = CLUSTER)]
    pub bus: BusSetting,

    /// This node's name in the cluster, unique: refused while a live node holds it
    /// [default: <hostname>-<pid>]
    #[arg(long, env = "PULSE_NODE_NAME", value_name = "NAME", value_parser = node_name,
          help_heading = CLUSTER)]
    pub node_name: Option<String>,

    /// Most events published and not yet final, cluster-wide; beyond it ingest answers 503
    /// [range: 1..=1000000000]
    #[arg(long, env = "PULSE_BUS_BACKLOG", value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000), help_heading = CLUSTER)]
    pub bus_backlog: u64,

    /// Stream entries (publish batches) a node reads ahead of its pipeline: what a dead node
    /// leaves for others to redeliver [range: 1..=1024]
    #[arg(long, env = "PULSE_BUS_READ_AHEAD", value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=1024), help_heading = CLUSTER)]
    pub bus_read_ahead: u32,

    /// Most events in one stream entry: a bigger publish is split into several entries, all
    /// added in one atomic step (an entry is redelivered whole) [range: 1..=100000]
    #[arg(long, env = "PULSE_BUS_ENTRY_MAX", value_name = "N", default_value_t = 1_000,
          value_parser = clap::value_parser!(u32).range(1..=100_000), help_heading = CLUSTER)]
    pub bus_entry_max: u32,

    /// Deliveries after which an entry is dead-lettered as poison [range: 1..=1000]
    #[arg(long, env = "PULSE_BUS_MAX_DELIVERIES", value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=1000), help_heading = CLUSTER)]
    pub bus_max_deliveries: u64,

    /// A node's heartbeat lifetime, milliseconds: past it without a refresh, the node is dead
    /// and its pending entries are claimed [range: 300..=600000]
    #[arg(long, env = "PULSE_HEARTBEAT_TTL_MS", value_name = "MS", default_value_t = 3_000,
          value_parser = clap::value_parser!(u64).range(300..=600_000), help_heading = CLUSTER)]
    pub heartbeat_ttl_ms: u64,

    /// A test aid in redis mode: appends every event this node's pipeline acknowledged to
    /// FILE (`<event id> <sensor> <ok|failed>`), so a test can count duplicates exactly
    /// [default: off]
    #[arg(long, env = "PULSE_RECORD_ACKS", value_name = "FILE", value_parser = non_blank_path,
          help_heading = CLUSTER)]
    pub record_acks: Option<PathBuf>,
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

/// A secret token, as given: long enough to resist guessing, no whitespace (a stray newline
/// from a file would never match what a client sends).
fn token(v: &str) -> Result<Token, String> {
    Token::new(v).map_err(|e| e.to_string())
}

/// A token read from the first line of a file.
fn token_file(v: &str) -> Result<Token, String> {
    let text = std::fs::read_to_string(v).map_err(|e| format!("cannot read {v:?}: {e}"))?;
    token(text.lines().next().unwrap_or_default().trim())
}

/// One `--allowed-hosts` entry.
fn allowed_host(v: &str) -> Result<AllowedHost, String> {
    v.parse().map_err(|e: crate::guard::HostParseError| e.to_string())
}

/// `embedded` or a Redis URL.
fn bus_setting(v: &str) -> Result<BusSetting, String> {
    v.parse()
}

/// A node name: 1 to 64 of letters, digits, `.`, `_`, `-`, `:`.
fn node_name(v: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if v.is_empty() || v.len() > 64 || !v.chars().all(ok) {
        Err("expected 1 to 64 letters, digits, '.', '_', '-' or ':'".into())
    } else {
        Ok(v.to_owned())
    }
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
