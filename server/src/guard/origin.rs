//! Cross-site request protection from the headers browsers send: `Sec-Fetch-Site` (every
//! current browser), else `Origin`.

use super::{Refusal, request_host};
use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// `Sec-Fetch-Site` (Fetch Metadata): who initiated the request, as the browser sees it.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Whether a request is from this site, or from no browser page at all: `Ok` when
/// `Sec-Fetch-Site` is `same-origin` or `none` (typed in, a bookmark); without it, when `Origin`
/// is `http://` or `https://` + `host`; with neither header (curl, scripts), too.
pub(super) fn same_origin(headers: &HeaderMap, host: Option<&str>) -> Result<(), Refusal> {
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        let site = site.to_str().unwrap_or_default();
        return if site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none") {
            Ok(())
        } else {
            Err(Refusal::CrossSite(format!("Sec-Fetch-Site is {site:?}")))
        };
    }
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or_default();
    // `https://` too: behind a proxy that ends TLS the page's origin is https, the Host the
    // same. One host:port cannot serve both schemes, so no other site can wear that origin.
    let ours = |scheme: &str| host.is_some_and(|h| origin.eq_ignore_ascii_case(&format!("{scheme}://{h}")));
    if ours("http") || ours("https") {
        Ok(())
    } else {
        Err(Refusal::CrossSite(format!("Origin {origin:?} is not this site")))
    }
}

/// Middleware for every route: a state-changing request (any method but GET, HEAD, OPTIONS)
/// from another site is refused with 403.
pub(crate) async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    same_origin_only(req, next).await
}

/// Middleware for a route where even a GET must come from this site (the `/ws` upgrade: a
/// WebSocket is not bound by the same-origin policy).
pub(crate) async fn same_origin_only(req: Request, next: Next) -> Response {
    match same_origin(req.headers(), request_host(&req)) {
        Ok(()) => next.run(req).await,
        Err(refusal) => refusal.into_response(),
    }
}
