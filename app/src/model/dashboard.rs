//! The dashboard's wire types: what one poll of `/rpc/poll_dashboard` returns (the process
//! and OS figures, the stats snapshot, new history rows, new log lines) and the few inputs it
//! takes (refresh interval, log level), validated on both sides.

use super::StatsSnapshot;
use serde::{Deserialize, Serialize};

/// Rows the server keeps: 15 minutes at one row per second.
pub const HISTORY_ROWS: usize = 900;

/// Log lines the server keeps for the tail.
pub const LOG_LINES: usize = 1_000;

/// Log lines one poll returns at most (the newest ones).
pub const LOG_BATCH: usize = 200;

/// Refresh intervals the dashboard offers, in seconds.
pub const REFRESH_CHOICES: [u32; 4] = [1, 2, 5, 15];

/// Why a dashboard input was refused; shown to the visitor or returned as a 4xx.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DashboardInputError {
    /// The refresh interval is not one of [`REFRESH_CHOICES`].
    #[error("refresh must be one of 1, 2, 5 or 15 seconds, got {0:?}")]
    Refresh(String),
    /// The level is not a tracing level.
    #[error("level must be one of error, warn, info, debug, trace, got {0:?}")]
    Level(String),
}

/// Parses a refresh interval (`"5"`) into seconds, accepting only the offered choices.
pub fn parse_refresh(s: &str) -> Result<u32, DashboardInputError> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| REFRESH_CHOICES.contains(n))
        .ok_or_else(|| DashboardInputError::Refresh(s.to_string()))
}

/// A tracing level, most severe first: a filter at `Info` shows error, warn and info.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// Every level, most severe first (the filter's options).
    pub const ALL: [LogLevel; 5] =
        [LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug, LogLevel::Trace];

    /// The lowercase name used in queries and shown in the tail.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    /// Parses `"warn"` (any case); anything else is an input error.
    pub fn parse(s: &str) -> Result<Self, DashboardInputError> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == lower)
            .ok_or_else(|| DashboardInputError::Level(s.to_string()))
    }

    /// Whether a line at `self` passes a filter set to `filter`.
    pub fn passes(self, filter: LogLevel) -> bool {
        self <= filter
    }
}

/// One second of history: the values of every metric of the catalogue, in catalogue order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Increases by one per row, from 1; a poll asks for rows after the last it has.
    pub seq: u64,
    /// Wall-clock time of the sample, unix milliseconds.
    pub t_ms: u64,
    /// One value per catalogue column (see `catalogue::columns`).
    pub values: Vec<f64>,
}

/// One captured tracing event, as text (the page renders it as a text node: never as HTML).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Increases by one per captured line, from 1.
    pub seq: u64,
    /// Unix milliseconds.
    pub t_ms: u64,
    pub level: LogLevel,
    /// The module that logged it, e.g. `pulse_server::server`.
    pub target: String,
    /// The message and its fields, truncated to 1 KiB.
    pub message: String,
}

/// The process and the machine it runs on, sampled once a second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemInfo {
    /// Pulse's version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// `release` or `debug`.
    pub profile: String,
    pub uptime_ms: u64,
    /// Resident set size of the process, bytes.
    pub rss_bytes: u64,
    /// CPU used by the process over the last second, percent of one core.
    pub cpu_pct: f64,
    /// OS threads in the process.
    pub threads: u64,
    /// The main (HTTP) runtime: worker threads, alive tasks, global queue depth, and threads
    /// of its blocking pool.
    pub tokio_workers: u64,
    pub tokio_alive_tasks: u64,
    pub tokio_global_queue: u64,
    pub tokio_blocking_threads: u64,
    /// Load average over 1, 5 and 15 minutes.
    pub load: [f64; 3],
    pub mem_total_bytes: u64,
    pub mem_available_bytes: u64,
    /// The size and free space of the file system holding the data directory (not its path:
    /// no visitor needs the server's file layout).
    pub disk_total_bytes: u64,
    pub disk_free_bytes: u64,
    /// CPUs the OS reports.
    pub cpus: u64,
}

/// One poll's answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardUpdate {
    pub system: SystemInfo,
    /// The stats snapshot taken at the last sample.
    pub stats: StatsSnapshot,
    /// History rows after the `since` asked for (all kept rows for `since = 0`), oldest first.
    pub rows: Vec<Row>,
    /// Log lines after `log_since` at or above the level asked for, oldest first.
    pub logs: Vec<LogLine>,
    /// The newest log sequence number the server has (whether or not it passed the filter),
    /// so the next poll asks only for newer lines.
    pub log_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_accepts_only_the_offered_choices() {
        assert_eq!(parse_refresh("5"), Ok(5));
        assert_eq!(parse_refresh(" 15 "), Ok(15));
        assert!(matches!(parse_refresh("3"), Err(DashboardInputError::Refresh(_))));
        assert!(parse_refresh("-1").is_err());
        assert!(parse_refresh("abc").is_err());
    }

    #[test]
    fn levels_parse_and_filter_by_severity() {
        assert_eq!(LogLevel::parse("WARN"), Ok(LogLevel::Warn));
        assert!(LogLevel::parse("loud").is_err());
        assert!(LogLevel::Error.passes(LogLevel::Warn));
        assert!(LogLevel::Warn.passes(LogLevel::Warn));
        assert!(!LogLevel::Info.passes(LogLevel::Warn));
        assert!(LogLevel::Trace.passes(LogLevel::Trace));
    }
}
