//! The HTTP guard: what every request passes before a route sees it, and what every response
//! carries.
//!
//! - [`hosts`]: the `Host` allow-list (`--allowed-hosts`). A request for any other name is
//!   refused with 421 Misdirected Request: a page on a rebound DNS name (DNS rebinding) cannot
//!   talk to Pulse under its own name.
//! - [`origin`]: cross-site request protection. A state-changing request (any method but
//!   GET / HEAD / OPTIONS: server functions, `POST /api/events`) and the `/ws` upgrade are
//!   refused with 403 when a browser says they come from another site: `Sec-Fetch-Site` must be
//!   `same-origin` or `none`; without it, `Origin` must be `http://` + the `Host` header.
//!   Requests with neither header (curl, scripts) pass: no browser sent them.
//! - [`headers`]: `nosniff`, `X-Frame-Options`, `Referrer-Policy` and the Content Security
//!   Policy on every response; pages get a CSP naming their own per-request script nonce.
//!
//! Each refusal is a JSON `{"error": "..."}` ([`Refusal`]).

mod headers;
mod hosts;
mod origin;
#[cfg(test)]
mod tests;

pub(crate) use headers::{page_csp, security_headers};
pub(crate) use hosts::check_host;
pub use hosts::{AllowedHost, AllowedHosts, HostParseError};
pub(crate) use origin::{refuse_cross_site, same_origin_only};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why the guard refused a request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A browser said the request comes from another site.
    #[error("cross-site request refused: {0}")]
    CrossSite(String),
    /// The `Host` header names a host this server does not answer for.
    #[error("this server does not answer for host {0:?} (see --allowed-hosts)")]
    Misdirected(String),
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::CrossSite(_) => StatusCode::FORBIDDEN,
            Refusal::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// The host a request was sent to: its `Host` header, else its URI's authority (HTTP/2).
fn request_host(req: &axum::extract::Request) -> Option<&str> {
    match req.headers().get(axum::http::header::HOST) {
        Some(h) => h.to_str().ok(),
        None => req.uri().authority().map(|a| a.as_str()),
    }
}
