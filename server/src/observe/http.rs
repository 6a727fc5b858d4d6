//! HTTP metrics: an axum middleware timing every request. It feeds the Prometheus request
//! counter and duration histogram, and a per-second window (count, errors, min / mean / max,
//! bucket counts) the history sampler takes once a second. Failed requests are logged at info,
//! every request at debug.

use app::model::catalogue::HTTP_BUCKETS_MS;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::Mutex;
use std::time::Instant;

/// Labels of the request counter: method and status code.
pub type RequestLabels = Vec<(&'static str, String)>;

/// What one second of requests looked like.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpSecond {
    pub requests: u64,
    pub errors: u64,
    /// Milliseconds; 0 when no request finished.
    pub min_ms: f64,
    pub max_ms: f64,
    pub sum_ms: f64,
    /// Requests per bucket of `HTTP_BUCKETS_MS`, plus one for the rest.
    pub buckets: [u64; HTTP_BUCKETS_MS.len() + 1],
}

impl HttpSecond {
    fn record(&mut self, ms: f64, error: bool) {
        if self.requests == 0 || ms < self.min_ms {
            self.min_ms = ms;
        }
        self.max_ms = self.max_ms.max(ms);
        self.sum_ms += ms;
        self.requests += 1;
        self.errors += u64::from(error);
        let bucket = HTTP_BUCKETS_MS.iter().position(|b| ms <= *b).unwrap_or(HTTP_BUCKETS_MS.len());
        self.buckets[bucket] += 1;
    }

    /// Mean duration in milliseconds (0 without requests).
    pub fn mean_ms(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.sum_ms / self.requests as f64 }
    }
}

/// The HTTP metrics, shared by the middleware, the sampler and the exporter.
#[derive(Debug)]
pub struct HttpMetrics {
    /// `pulse_http_requests_total{method, status}`.
    pub requests: Family<RequestLabels, Counter>,
    /// `pulse_http_request_duration_seconds`.
    pub duration: Histogram,
    second: Mutex<HttpSecond>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            duration: Histogram::new(HTTP_BUCKETS_MS.iter().map(|ms| ms / 1000.0)),
            second: Mutex::default(),
        }
    }
}

impl HttpMetrics {
    /// Counts one finished request.
    pub fn record(&self, method: &str, status: u16, seconds: f64) {
        // Methods are client input: unknown ones share one label, so the series stay bounded.
        let method = match method {
            "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" => method,
            _ => "other",
        };
        let labels = vec![("method", method.to_string()), ("status", status.to_string())];
        self.requests.get_or_create(&labels).inc();
        self.duration.observe(seconds);
        self.second.lock().unwrap_or_else(|e| e.into_inner()).record(seconds * 1000.0, status >= 400);
    }

    /// The second since the last call, and a fresh one begun.
    pub fn take_second(&self) -> HttpSecond {
        std::mem::take(&mut *self.second.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The middleware: times the request and records it.
pub async fn track(State(metrics): State<std::sync::Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    metrics.record(method.as_str(), status, elapsed);
    if status >= 400 {
        tracing::info!(target: "pulse::http", %method, %path, status, ms = elapsed * 1000.0, "request failed");
    } else {
        tracing::debug!(target: "pulse::http", %method, %path, status, ms = elapsed * 1000.0, "request");
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_keeps_min_mean_max_and_buckets() {
        let m = HttpMetrics::default();
        m.record("GET", 200, 0.0005);
        m.record("GET", 404, 0.010);
        m.record("POST", 202, 2.0);
        let s = m.take_second();
        assert_eq!((s.requests, s.errors), (3, 1));
        assert_eq!(s.min_ms, 0.5);
        assert_eq!(s.max_ms, 2000.0);
        assert!((s.mean_ms() - 2010.5 / 3.0).abs() < 1e-9);
        assert_eq!(s.buckets, [1, 0, 1, 0, 0, 1]);
        assert_eq!(m.take_second(), HttpSecond::default(), "taking starts a fresh second");
        m.record("BREW", 400, 0.001);
        let other = vec![("method", "other".to_string()), ("status", "400".to_string())];
        assert_eq!(m.requests.get_or_create(&other).get(), 1, "unknown methods share a label");
    }
}
