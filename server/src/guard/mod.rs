//! The HTTP guard: what every request passes before a route sees it, and what every response
//! carries.
//!
//! - [`hosts`]: the `Host` allow-list (`--allowed-hosts`). A request for any other name is
//!   refused with 421 Misdirected Request: a page on a rebound DNS name (DNS rebinding) cannot
//!   talk to Pulse under its own name.
//! - [`origin`]: cross-site request protection. A state-changing request (any method but
//!   GET / HEAD / OPTIONS: server functions, `POST /api/events`) and the `/ws` upgrade are
//!   refused with 403 when a browser says they come from another site: `Sec-Fetch-Site` must be
//!   `same-origin` or `none`; without it, `Origin` must be `http://` or `https://` + the `Host` header.
//!   Requests with neither header (curl, scripts) pass: no browser sent them.
//! - [`access`]: who may act. The destructive controls need the operator's token, or a
//!   loopback listener without one; publishing needs the ingest token when one is set
//!   ([`authorize`]). [`session`]: the page's unlock form, which puts the token in a cookie.
//! - [`headers`]: `nosniff`, `X-Frame-Options`, `Referrer-Policy` and the Content Security
//!   Policy on every response; pages get a CSP naming their own per-request script nonce.
//!
//! Each refusal is a JSON `{"error": "..."}` ([`Refusal`]).

mod access;
mod headers;
mod hosts;
mod origin;
mod session;
#[cfg(test)]
mod tests;

pub use access::{Operator, TOKEN_MIN_LEN, Token, TokenError};
pub(crate) use headers::{page_csp, security_headers};
pub(crate) use hosts::check_host;
pub use hosts::{AllowedHost, AllowedHosts, HostParseError};
pub(crate) use origin::{refuse_cross_site, same_origin_only};
pub(crate) use session::{Sessions, refused as unlock_refused, session};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

/// Why the guard refused a request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A browser said the request comes from another site.
    #[error("cross-site request refused: {0}")]
    CrossSite(String),
    /// The `Host` header names a host this server does not answer for.
    #[error("this server does not answer for host {0:?} (see --allowed-hosts)")]
    Misdirected(String),
    /// A destructive control on a listener that is not loopback, with no operator token set.
    #[error(
        "destructive controls are off: this server listens on {0}, which is not loopback, and has \
         no operator token; start it with --admin-token (PULSE_ADMIN_TOKEN) to use them"
    )]
    ControlsOff(std::net::SocketAddr),
    /// A control or publish without the token it needs.
    #[error("{0}: send it as Authorization: Bearer <token>, or unlock the page")]
    Unauthorized(String),
    /// Too many unlock attempts from one address.
    #[error("too many unlock attempts from this address; wait a minute")]
    TooManyAttempts,
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::CrossSite(_) => StatusCode::FORBIDDEN,
            Refusal::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
            Refusal::ControlsOff(_) => StatusCode::FORBIDDEN,
            Refusal::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Refusal::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(json!({ "error": self.to_string() }))).into_response();
        let headers = response.headers_mut();
        match self {
            Refusal::Unauthorized(_) => {
                headers.insert(axum::http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Refusal::TooManyAttempts => {
                headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
            _ => {}
        }
        response
    }
}

/// Which guard a path needs: the destructive server functions the operator's, the publishing
/// ones (and `POST /api/events`) the ingest token's.
#[derive(Clone)]
pub(crate) struct Roles {
    operator: Operator,
    destructive: Arc<HashSet<&'static str>>,
    publishing: Arc<HashSet<&'static str>>,
}

impl Roles {
    pub(crate) fn new(operator: Operator) -> Self {
        let publishing = app::api::classes::publish().into_iter().chain(["/api/events"]).collect();
        Self {
            operator,
            destructive: Arc::new(app::api::classes::operator().into_iter().collect()),
            publishing: Arc::new(publishing),
        }
    }
}

/// Middleware for every route: a destructive control without the operator's rights, or a
/// publish without the ingest token (when one is set), is refused (401, or 403 when the
/// controls are off).
pub(crate) async fn authorize(State(roles): State<Roles>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let rpc = path.starts_with("/rpc/");
    let allowed = if roles.destructive.contains(path) {
        roles.operator.check_operator(req.headers())
    } else if roles.publishing.contains(path) {
        roles.operator.check_publish(req.headers())
    } else {
        Ok(())
    };
    match allowed {
        Ok(()) => next.run(req).await,
        // A server function's caller decodes its errors as `AppError`, in postcard.
        Err(refusal) if rpc => refusal.into_server_fn_error(),
        Err(refusal) => refusal.into_response(),
    }
}

impl Refusal {
    /// The refusal as a server function's error answer: `AppError::Refused`, postcard.
    fn into_server_fn_error(self) -> Response {
        use leptos::server_fn::Encodes;
        use leptos::server_fn::codec::PostcardEncoding;
        let status = self.status();
        let error = app::error::AppError::Refused(status.as_u16(), self.to_string());
        match <PostcardEncoding as Encodes<app::error::AppError>>::encode(&error) {
            Ok(body) => {
                (status, [(axum::http::header::CONTENT_TYPE, "application/x-postcard")], body).into_response()
            }
            Err(_) => self.into_response(),
        }
    }
}

/// The host a request was sent to: its `Host` header, else its URI's authority (HTTP/2).
fn request_host(req: &axum::extract::Request) -> Option<&str> {
    match req.headers().get(axum::http::header::HOST) {
        Some(h) => h.to_str().ok(),
        None => req.uri().authority().map(|a| a.as_str()),
    }
}
