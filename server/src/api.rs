//! The HTTP API: `POST /api/events`, `GET /api/stats`, `GET /healthz`. Every error is a JSON
//! `{"error": "..."}` with a 4xx/5xx status; nothing here panics on input.

use crate::ingest::IngestError;
use crate::rate::RateRefusal;
use crate::state::AppState;
use app::model::{SensorReading, StatsSnapshot};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use std::net::SocketAddr;

/// Largest request body `POST /api/events` accepts.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// Why a request was refused; each maps to one status code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("could not read the body: {0}")]
    Body(String),
    /// The body did not arrive within `--body-timeout-ms` (tower-http's timeout).
    #[error("the body did not arrive within the body timeout (--body-timeout-ms)")]
    BodyTimeout,
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unavailable(#[from] IngestError),
    /// The body is not declared as JSON: a web page's plain form or `text/plain` fetch cannot
    /// post events.
    #[error("expected Content-Type: application/json, got {}", .0.as_deref().map_or("none".into(), |t| format!("{t:?}")))]
    NotJson(Option<String>),
    /// The client is over its ingest rate (`crate::rate`).
    #[error("{0}")]
    RateLimited(#[from] RateRefusal),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Body(_) | ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotJson(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited(RateRefusal::Over { .. }) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::RateLimited(RateRefusal::TooMany { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

/// Seconds a client is told to wait when the pipeline is full: about what the pipeline needs
/// to work through a full buffer.
pub(crate) const RETRY_AFTER_S: u64 = 1;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            ApiError::Unavailable(e) if e.retry_after() => Some(RETRY_AFTER_S),
            ApiError::RateLimited(RateRefusal::Over { retry_after_s, .. }) => Some(*retry_after_s),
            _ => None,
        };
        let mut response = (self.status(), Json(json!({ "error": self.to_string() }))).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&r);
        while let Some(e) = cause {
            if e.is::<tower_http::timeout::TimeoutError>() {
                return ApiError::BodyTimeout;
            }
            cause = e.source();
        }
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::Body(r.body_text())
        }
    }
}

/// Parses one reading or a JSON array of them, naming the failing field on a shape error
/// (e.g. `[2].kind: unknown variant "wind"`).
pub(crate) fn parse_readings(body: &[u8]) -> Result<Vec<SensorReading>, ApiError> {
    let is_array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = if is_array {
        serde_path_to_error::deserialize::<_, Vec<SensorReading>>(&mut de)
    } else {
        serde_path_to_error::deserialize::<_, SensorReading>(&mut de).map(|r| vec![r])
    };
    let readings = parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let at = if path == "." { String::new() } else { format!("{path}: ") };
            ApiError::Invalid(format!("{at}{inner}"))
        } else {
            ApiError::Malformed(inner.to_string())
        }
    })?;
    de.end().map_err(|e| ApiError::Malformed(e.to_string()))?;
    for (i, r) in readings.iter().enumerate() {
        r.check_shape()
            .map_err(|e| ApiError::Invalid(if is_array { format!("[{i}].{e}") } else { e.to_string() }))?;
    }
    Ok(readings)
}

/// `Ok` when `Content-Type` is `application/json`, with or without parameters
/// (`; charset=utf-8`).
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers.get(CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = declared.as_deref().and_then(|t| t.split(';').next()).map(str::trim);
    if essence.is_some_and(|e| e.eq_ignore_ascii_case("application/json")) {
        Ok(())
    } else {
        Err(ApiError::NotJson(declared))
    }
}

/// `POST /api/events`: 202 `{"accepted": n}`; the body must be declared `application/json`
/// (else 415); a client over its rate gets 429 with `Retry-After`. Out-of-range values are accepted here and fail in
/// the pipeline, with their reason. When the pipeline has no room for them all, none is taken:
/// 503 with `Retry-After`.
pub(crate) async fn post_events(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let readings = parse_readings(&body?)?;
    state.ingest_limit.check(peer.ip(), readings.len())?;
    let accepted = state.ingest.publish(readings).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": accepted }))).into_response())
}

/// `GET /api/stats`: the ledger as it is now.
pub(crate) async fn get_stats(State(state): State<AppState>) -> Json<StatsSnapshot> {
    Json(state.snapshots.now())
}

/// Any other `/api/...` path: a JSON 404 rather than the HTML page.
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": format!("no such endpoint: {}", uri.path()) })))
        .into_response()
}

/// `GET /healthz`: 200 while the server is up; 503 `degraded: <reason>` while its Redis bus
/// cannot reach Redis.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.bus.as_ref().and_then(crate::bus::RedisBus::degraded) {
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": format!("degraded: {why}") })))
            .into_response(),
        None => Json(json!({ "status": "ok" })).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> ApiError {
        parse_readings(body.as_bytes()).expect_err("should be refused")
    }

    #[test]
    fn one_or_many() {
        assert_eq!(parse_readings(br#"{"sensor":"a","kind":"humidity","value":5}"#).expect("one").len(), 1);
        let many = br#" [{"sensor":"a","kind":"humidity","value":5},{"sensor":"b","kind":"pressure","value":900,"at":1}]"#;
        assert_eq!(parse_readings(many).expect("two").len(), 2);
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(err("{\"sensor\":"), ApiError::Malformed(_)));
        assert!(matches!(err("not json"), ApiError::Malformed(_)));
        assert!(matches!(
            err(r#"{"sensor":"a","kind":"humidity","value":5} trailing"#),
            ApiError::Malformed(_)
        ));
    }

    #[test]
    fn shape_errors_name_the_field() {
        let e = err(r#"{"kind":"humidity","value":5}"#);
        assert!(matches!(&e, ApiError::Invalid(m) if m.contains("sensor")), "{e}");
        let e = err(r#"[{"sensor":"a","kind":"humidity","value":5},{"sensor":"b","kind":"wind","value":1}]"#);
        assert!(matches!(&e, ApiError::Invalid(m) if m.starts_with("[1].kind")), "{e}");
        let e = err(r#"{"sensor":"a","kind":"humidity","value":"high"}"#);
        assert!(matches!(&e, ApiError::Invalid(m) if m.starts_with("value")), "{e}");
        let e = err(r#"[{"sensor":"","kind":"humidity","value":5}]"#);
        assert!(matches!(&e, ApiError::Invalid(m) if m.starts_with("[0].sensor")), "{e}");
    }

    #[test]
    fn a_full_pipeline_answers_503_with_retry_after() {
        let r = ApiError::Unavailable(IngestError::Full { needed: 10, room: 3 }).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers().get(axum::http::header::RETRY_AFTER).map(|v| v.as_bytes()), Some(&b"1"[..]));
        let shutting = ApiError::Unavailable(IngestError::ShuttingDown).into_response();
        assert!(shutting.headers().get(axum::http::header::RETRY_AFTER).is_none());
    }

    #[test]
    fn only_json_is_taken() {
        let with = |t: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, axum::http::HeaderValue::from_static(t));
            require_json(&h)
        };
        for ok in ["application/json", "application/json; charset=utf-8", "Application/JSON ;charset=UTF-8"] {
            assert!(with(ok).is_ok(), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/jsonp",
            "",
        ] {
            let e = with(bad).expect_err(bad);
            assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{bad}");
        }
        let none = require_json(&HeaderMap::new()).expect_err("no content type");
        assert_eq!(none.to_string(), "expected Content-Type: application/json, got none");
    }

    #[test]
    fn statuses() {
        assert_eq!(ApiError::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(err("{").status(), StatusCode::BAD_REQUEST);
        assert_eq!(err("{}").status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_client_over_its_rate_gets_429_with_retry_after() {
        let over = ApiError::from(RateRefusal::Over { rate: 10, retry_after_s: 3 }).into_response();
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(over.headers()[axum::http::header::RETRY_AFTER], "3");
        let huge = ApiError::from(RateRefusal::TooMany { events: 11, rate: 10 }).into_response();
        assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(huge.headers().get(axum::http::header::RETRY_AFTER).is_none(), "waiting will not help");
    }
}

/// Properties of decoding and validation over generated input: nothing panics, what is taken is
/// well-formed, and a well-formed reading survives the trip through JSON with the verdict its
/// range gives.
#[cfg(test)]
mod props {
    use super::*;
    use app::model::Kind;
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![Just(Kind::Temperature), Just(Kind::Humidity), Just(Kind::Pressure)]
    }

    fn reading() -> impl Strategy<Value = SensorReading> {
        // Values in tenths, as sensors send them (serde_json reads back such decimals exactly).
        ("[a-z0-9-]{1,64}", kind(), -20_000i32..20_000, proptest::option::of(0u64..4_000_000_000_000))
            .prop_map(|(sensor, kind, tenths, at)| SensorReading {
                sensor,
                kind,
                value: f64::from(tenths) / 10.0,
                at,
            })
    }

    proptest! {
        #[test]
        fn any_bytes_are_refused_or_give_well_formed_readings(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(readings) = parse_readings(&body) {
                prop_assert!(readings.iter().all(|r| r.check_shape().is_ok()));
            }
        }

        #[test]
        fn any_json_text_is_refused_or_well_formed(body in r#"[\[\]{}",:a-z0-9. -]{0,200}"#) {
            if let Ok(readings) = parse_readings(body.as_bytes()) {
                prop_assert!(readings.iter().all(|r| r.check_shape().is_ok()));
            }
        }

        #[test]
        fn a_well_formed_batch_round_trips_and_validates_by_its_range(batch in proptest::collection::vec(reading(), 1..20)) {
            let body = serde_json::to_vec(&batch).expect("serializes");
            let back = parse_readings(&body).expect("a well-formed batch is taken");
            prop_assert_eq!(&back, &batch);
            for r in &back {
                prop_assert_eq!(r.validate().is_ok(), r.kind.valid_range().contains(&r.value));
            }
        }

        #[test]
        fn a_blank_or_overlong_sensor_is_refused_naming_its_place(sensor in prop_oneof!["[ ]{0,3}", "[a-z]{65,80}"], i in 0usize..5) {
            let mut batch: Vec<serde_json::Value> =
                (0..5).map(|n| serde_json::json!({"sensor": format!("s-{n}"), "kind": "humidity", "value": 40.0})).collect();
            batch[i]["sensor"] = serde_json::Value::String(sensor);
            let body = serde_json::to_vec(&batch).expect("serializes");
            match parse_readings(&body) {
                Err(ApiError::Invalid(why)) => prop_assert!(why.starts_with(&format!("[{i}].")), "{}", why),
                other => prop_assert!(false, "refused as invalid, got {:?}", other.map(|r| r.len())),
            }
        }
    }
}
