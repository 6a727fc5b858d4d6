//! Logging set-up for the binary: `RUST_LOG` filters what is printed (default `info`),
//! `PULSE_LOG_FORMAT=json` or the `--json-logs` flag prints one JSON object per line, and
//! `PULSE_LOG_TAIL` (default `info`) filters what the dashboard's log tail keeps, whatever is
//! printed.

use super::logs::{LogTail, TailLayer};
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// A logging setting that could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("PULSE_LOG_FORMAT={0:?}: expected `text` or `json`")]
    Format(String),
    #[error("{name}: {source}")]
    Filter { name: &'static str, source: tracing_subscriber::filter::ParseError },
    #[error("a global logger is already installed: {0}")]
    Installed(#[from] tracing_subscriber::util::TryInitError),
}

/// Whether lines are printed as JSON: `--json-logs` among `args`, or `PULSE_LOG_FORMAT`.
pub fn json_requested(args: &[String], format: Option<&str>) -> Result<bool, LoggingError> {
    if args.iter().any(|a| a == "--json-logs") {
        return Ok(true);
    }
    match format.map(str::trim) {
        None | Some("" | "text") => Ok(false),
        Some("json") => Ok(true),
        Some(other) => Err(LoggingError::Format(other.to_string())),
    }
}

fn filter(name: &'static str, default: &str) -> Result<EnvFilter, LoggingError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
            EnvFilter::try_new(v).map_err(|source| LoggingError::Filter { name, source })
        }
        _ => Ok(EnvFilter::new(default)),
    }
}

/// Installs the process's logger: printed lines (text or JSON) and the dashboard's tail.
pub fn init() -> Result<(), LoggingError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = json_requested(&args, std::env::var("PULSE_LOG_FORMAT").ok().as_deref())?;
    let printed = if json { fmt::layer().json().boxed() } else { fmt::layer().boxed() };
    tracing_subscriber::registry()
        .with(printed.with_filter(filter("RUST_LOG", "info")?))
        .with(TailLayer::new(LogTail::global()).with_filter(filter("PULSE_LOG_TAIL", "info")?))
        .try_init()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::json_requested;

    #[test]
    fn json_on_the_flag_or_the_setting() {
        assert!(json_requested(&["--json-logs".into()], None).expect("valid"));
        assert!(json_requested(&[], Some("json")).expect("valid"));
        assert!(!json_requested(&[], Some("text")).expect("valid"));
        assert!(!json_requested(&[], None).expect("valid"));
        assert!(json_requested(&[], Some("yaml")).is_err());
    }
}
