//! Logging set-up for the binary, from three settings of [`crate::config::Settings`]: `RUST_LOG`
//! (`--log`, default `info`) filters what is printed, `PULSE_LOG_FORMAT=json` (`--log-format`,
//! or the `--json-logs` flag) prints one JSON object per line, and `PULSE_LOG_TAIL`
//! (`--log-tail`, default `info`) filters what the dashboard's log tail keeps, whatever is
//! printed.

use super::logs::{LogTail, TailLayer};
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// A logging setting that could not be understood, or a logger already in place.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("{name}: {source}")]
    Filter { name: &'static str, source: tracing_subscriber::filter::ParseError },
    #[error("a global logger is already installed: {0}")]
    Installed(#[from] tracing_subscriber::util::TryInitError),
}

fn filter(name: &'static str, directives: &str) -> Result<EnvFilter, LoggingError> {
    EnvFilter::try_new(directives).map_err(|source| LoggingError::Filter { name, source })
}

/// Installs the process's logger: printed lines (JSON if `json`, else text) filtered by
/// `printed`, and the dashboard's tail filtered by `tail` (both `tracing` filter directives).
pub fn init(json: bool, printed: &str, tail: &str) -> Result<(), LoggingError> {
    let lines = if json { fmt::layer().json().boxed() } else { fmt::layer().boxed() };
    tracing_subscriber::registry()
        .with(lines.with_filter(filter("RUST_LOG", printed)?))
        .with(TailLayer::new(LogTail::global()).with_filter(filter("PULSE_LOG_TAIL", tail)?))
        .try_init()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{LoggingError, filter};

    #[test]
    fn a_bad_filter_names_its_setting() {
        assert!(filter("RUST_LOG", "warn,pulse_server=debug").is_ok());
        let e = filter("PULSE_LOG_TAIL", "[[[").expect_err("not a filter");
        assert!(matches!(e, LoggingError::Filter { name: "PULSE_LOG_TAIL", .. }), "{e}");
    }
}
