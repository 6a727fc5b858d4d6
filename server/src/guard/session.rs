//! The operator's browser session: `POST /api/session` (the page's unlock form) trades the
//! operator's token for an `HttpOnly`, `SameSite=Strict` cookie, or clears it, and sends the
//! browser back to the page it came from. A plain HTML form (no WASM): a full page load then
//! renders the controls unlocked.
//!
//! Attempts are rate limited per client address (`governor`): a wrong token costs one of a few
//! tries a minute, so guessing a 16-character token over HTTP is hopeless.

use super::access::{Operator, SESSION_COOKIE};
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// Unlock attempts a client address gets per minute.
const ATTEMPTS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).expect("10 is not zero");

/// How long an unlocked browser stays unlocked.
const SESSION_SECONDS: i64 = 12 * 3600;

/// The unlock form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct SessionForm {
    /// The operator's token (absent when locking again).
    #[serde(default)]
    token: String,
    /// `lock` clears the session; anything else unlocks.
    #[serde(default)]
    action: String,
    /// The page to go back to (one of the routed pages; anything else: `/`).
    #[serde(default)]
    back: String,
}

/// What the session route needs: the rules, and the attempts counter.
#[derive(Clone)]
pub(crate) struct Sessions {
    operator: Operator,
    attempts: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Sessions {
    pub(crate) fn new(operator: Operator) -> Self {
        Self { operator, attempts: Arc::new(RateLimiter::keyed(Quota::per_minute(ATTEMPTS_PER_MINUTE))) }
    }
}

/// `POST /api/session`.
pub(crate) async fn session(
    State(sessions): State<Sessions>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<SessionForm>,
) -> Response {
    let back =
        app::Page::ROUTED.into_iter().filter_map(app::Page::path).find(|p| *p == form.back).unwrap_or("/");
    if form.action == "lock" {
        let gone = Cookie::build((SESSION_COOKIE, "")).path("/").max_age(cookie::time::Duration::ZERO);
        return redirect(back, Some(gone.build()));
    }
    let Some(token) = sessions.operator.token() else {
        return redirect(back, None); // nothing to unlock: the controls are open, or off
    };
    if sessions.attempts.check_key(&peer.ip()).is_err() {
        return super::Refusal::TooManyAttempts.into_response();
    }
    if !token.matches(form.token.trim()) {
        tracing::warn!(client = %peer.ip(), "an operator unlock attempt with a wrong token");
        return redirect(&format!("{back}?unlock=refused"), None);
    }
    tracing::info!(client = %peer.ip(), "operator session opened");
    let cookie = Cookie::build((SESSION_COOKIE, token.as_str().to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(SESSION_SECONDS));
    redirect(back, Some(cookie.build()))
}

/// 303 See Other to `to`, setting `cookie`.
fn redirect(to: &str, cookie: Option<Cookie<'_>>) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(to) {
        headers.insert(LOCATION, location);
    }
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c.to_string()).ok()) {
        headers.insert(SET_COOKIE, value);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

/// Whether the page being rendered follows a refused unlock (`?unlock=refused`).
pub(crate) fn refused(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|pair| pair == "unlock=refused"))
}
