//! Security headers on every response, and the Content Security Policy pages run under.
//!
//! The policy allows scripts from this origin, WebAssembly compilation (`'wasm-unsafe-eval'`)
//! and, on a page, the inline scripts Leptos writes (the hydration bootstrap and the streamed
//! resource chunks), which carry the page's per-request nonce: `leptos_axum` makes one for each
//! page and tags its scripts with it; [`page_csp`] names it in that page's header. Every other
//! response gets the same policy without a nonce, so no inline script runs in it. Styles come
//! from the stylesheet only (the pages set no `style` attribute); the WebSocket is `'self'`.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_http::set_header::SetResponseHeaderLayer;

/// The directives besides `script-src` and `connect-src`, the same for every response.
macro_rules! common_directives {
    () => {
        "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; \
         form-action 'self'"
    };
}

/// The policy of every response that is not a page (no inline script at all).
pub(super) const STATIC_CSP: &str =
    concat!(common_directives!(), "; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'");

/// The policy of a page whose inline scripts carry `nonce`. `dev_reload_port`: cargo-leptos'
/// live-reload socket, allowed in `DEV` only.
pub(super) fn page_policy(nonce: &str, dev_reload_port: Option<u32>) -> String {
    let reload = dev_reload_port.map(|p| format!(" ws://*:{p}")).unwrap_or_default();
    format!(
        concat!(
            common_directives!(),
            "; script-src 'self' 'nonce-{}' 'wasm-unsafe-eval'; connect-src 'self'{}"
        ),
        nonce, reload
    )
}

/// Sets the page's CSP, naming its nonce. Runs as the pages' (and error pages') additional
/// context, after `leptos_axum` provided the nonce and the response options; elsewhere (a
/// static file, a server function) it does nothing, and the static policy applies.
pub(crate) fn page_csp(dev_reload_port: Option<u32>) {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce, dev_reload_port)) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// `router` with the security headers on every response (a header a handler set is kept).
pub(crate) fn security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let header = |name, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(header(CONTENT_SECURITY_POLICY, STATIC_CSP))
        .layer(header(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(X_FRAME_OPTIONS, "DENY"))
        .layer(header(REFERRER_POLICY, "no-referrer"))
}
