//! The cluster as the server answers for it: `GET /api/cluster` (the bus's view, or this one
//! node when embedded), and the controls for every node (the dashboard's Cluster tab,
//! `control_all`): what a command means to this node's pipeline, the words its heartbeat
//! reports them in, and the parsing of the server function's arguments. The bus carries the
//! commands (`bus::controls`); embedded, "every node" is this one.

use crate::bus::{BusError, ClusterView, Command};
use crate::pipeline::{Pipeline, RateLimit};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// The command `action` (`pause`, `resume`, `concurrency`, `rate`, `lift`) with its `value`
/// means; the error says what was wrong, for a 400.
pub(crate) fn parse(action: &str, value: Option<u64>, max_concurrency: u32) -> Result<Command, String> {
    match (action, value) {
        ("pause", _) => Ok(Command::Pause(true)),
        ("resume", _) => Ok(Command::Pause(false)),
        ("lift", _) => Ok(Command::RateLimit(None)),
        ("concurrency", Some(n)) if (1..=u64::from(max_concurrency)).contains(&n) => {
            Ok(Command::Concurrency(n as u32))
        }
        ("concurrency", v) => Err(format!(
            "concurrency for every node must be between 1 and {max_concurrency}, got {}",
            v.map_or("nothing".into(), |v| v.to_string())
        )),
        ("rate", Some(n @ 1..)) => Ok(Command::RateLimit(Some((n, 1_000)))),
        ("rate", v) => Err(format!(
            "a rate limit for every node needs a number of messages per second (1 or more), got {}",
            v.map_or("nothing".into(), |v| v.to_string())
        )),
        (other, _) => {
            Err(format!("no control {other:?} for every node (pause, resume, concurrency, rate, lift)"))
        }
    }
}

/// Applies `command` to this node's pipeline.
pub(crate) fn apply(pipeline: &Pipeline, command: &Command) -> Result<(), String> {
    let done = match command {
        Command::Pause(true) => pipeline.pause(),
        Command::Pause(false) => pipeline.resume(),
        Command::Concurrency(n) => pipeline.set_concurrency(*n as usize).map(|_| ()),
        Command::RateLimit(limit) => pipeline.update_rate_limit(limit.map(|(allowed_messages, ms)| {
            RateLimit { allowed_messages, interval: Duration::from_millis(ms) }
        })),
    };
    done.map_err(|e| e.to_string())
}

/// The controls `pipeline` runs with, in words: "flowing · 2 processors · no rate limit".
pub(crate) fn report(pipeline: &Pipeline) -> String {
    let c = pipeline.controls();
    let limit = c.rate_limit.map_or("no rate limit".to_string(), |l| {
        format!("{} per {} ms", l.allowed_messages, l.interval.as_millis())
    });
    let flow = if c.paused { "paused" } else { "flowing" };
    format!("{flow} · {} processors · {limit}", c.concurrency)
}

/// The cluster view (redis mode) or this one node (embedded).
pub(crate) async fn view(state: &AppState) -> Result<ClusterView, BusError> {
    match &state.bus {
        Some(bus) => bus.cluster().await,
        None => Ok(crate::bus::embedded_view(&state.snapshots.now())),
    }
}

/// `GET /api/cluster`: the cluster view (redis mode) or this one node (embedded); 503 with the
/// reason when Redis cannot be read.
pub(crate) async fn get_cluster(State(state): State<AppState>) -> Response {
    match view(&state).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "error": format!("degraded: {e}") })))
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_or_say_why() {
        assert_eq!(parse("pause", None, 16), Ok(Command::Pause(true)));
        assert_eq!(parse("resume", Some(3), 16), Ok(Command::Pause(false)));
        assert_eq!(parse("concurrency", Some(4), 16), Ok(Command::Concurrency(4)));
        assert_eq!(parse("rate", Some(500), 16), Ok(Command::RateLimit(Some((500, 1_000)))));
        assert_eq!(parse("lift", None, 16), Ok(Command::RateLimit(None)));
        for (action, value, says) in [
            ("concurrency", Some(0), "between 1 and 16, got 0"),
            ("concurrency", Some(17), "got 17"),
            ("concurrency", None, "got nothing"),
            ("rate", Some(0), "got 0"),
            ("explode", None, "no control \"explode\""),
        ] {
            let why = parse(action, value, 16).expect_err(action);
            assert!(why.contains(says), "{action}: {why}");
        }
    }
}
