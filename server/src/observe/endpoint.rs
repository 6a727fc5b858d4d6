//! HTTP endpoints: `GET /metrics` (Prometheus text, or OpenMetrics on request) and `GET /api/dashboard`, the dashboard's
//! poll as plain JSON for scripts (`since`, `log_since`, `level`, `refresh`; a bad value is a
//! 400 `{"error": ...}` naming it).

use super::Observe;
use super::prometheus::Format;
use app::api::DashboardSource;
use app::model::{DashboardInputError, LogLevel, parse_refresh};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// Why a dashboard query was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QueryError {
    #[error(transparent)]
    Input(#[from] DashboardInputError),
    #[error("{name} must be a non-negative integer, got {value:?}")]
    Number { name: &'static str, value: String },
}

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

/// `GET /metrics`: Prometheus text 0.0.4, or OpenMetrics when the `Accept` header asks for it.
pub(crate) async fn metrics(State(observe): State<Observe>, headers: HeaderMap) -> Response {
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()));
    match observe.render_metrics(format) {
        Ok(text) => ([(header::CONTENT_TYPE, format.content_type())], text).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "error": format!("cannot encode metrics: {e}") })),
        )
            .into_response(),
    }
}

fn number(q: &HashMap<String, String>, name: &'static str) -> Result<u64, QueryError> {
    q.get(name).map_or(Ok(0), |v| v.trim().parse().map_err(|_| QueryError::Number { name, value: v.clone() }))
}

/// The poll's inputs: (since, log_since, level); `refresh` is only checked.
fn parse(q: &HashMap<String, String>) -> Result<(u64, u64, LogLevel), QueryError> {
    if let Some(r) = q.get("refresh") {
        parse_refresh(r)?;
    }
    let level = q.get("level").map_or(Ok(LogLevel::Info), |l| LogLevel::parse(l))?;
    Ok((number(q, "since")?, number(q, "log_since")?, level))
}

/// `GET /api/dashboard`.
pub(crate) async fn dashboard(
    State(observe): State<Observe>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match parse(&q) {
        Ok((since, log_since, level)) => Json(observe.update(since, log_since, level)).into_response(),
        Err(e) => e.into_response(),
    }
}
