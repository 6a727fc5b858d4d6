//! The HTTP guard against a real server: cross-site requests refused (403) and without effect,
//! same-origin and browser-less requests served, `/api/events` only as JSON (415), unknown
//! `Host` names refused (421), the `/ws` upgrade same-origin only, the security headers (and a
//! page CSP naming the page's own nonce) on every answer, and no server path in the dashboard.

mod common;

use common::{TestServer, reading};
use pulse_server::ServerConfig;
use reqwest::header::HeaderMap;
use std::time::Duration;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const EVIL: &str = "http://evil.example";

/// Posts `body` with `content_type` to `/rpc/{endpoint}` with the extra `headers`: (status, body).
async fn post(
    s: &TestServer,
    path: &str,
    content_type: Option<&str>,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, String) {
    let mut req = s.http.post(s.url(path)).body(body.to_owned());
    if let Some(t) = content_type {
        req = req.header("content-type", t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, res.text().await.expect("body"))
}

/// Asserts a JSON `{"error": ...}` refusal with `status` whose message contains `says`.
fn refused_with(status: u16, (got, headers, body): &(u16, HeaderMap, String), says: &str) {
    assert_eq!(*got, status, "{body}");
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON error");
    assert!(v["error"].as_str().is_some_and(|e| e.contains(says)), "{body}");
}

/// A server holding one dead letter (an out-of-range reading), idle.
async fn with_a_dead_letter() -> TestServer {
    let s = TestServer::start().await;
    let body = serde_json::json!([reading("hot", "temperature", 999.0)]).to_string();
    assert_eq!(s.post_events(body).await.0, 202);
    s.until("the dead letter stored", |st| st.in_flight == 0 && st.dead_letters.stored == 1).await;
    s
}

/// Catches: the cross-site check missing, applied only to some routes, or letting a refused
/// request reach its server function (the pause, the purge or the kill would then show).
#[tokio::test]
async fn cross_site_server_function_calls_are_refused_and_change_nothing() {
    let s = with_a_dead_letter().await;
    let before = s.stats().await;
    let form = "application/x-www-form-urlencoded";
    let kill = "stage[role]=processor&stage[index]=0";
    for headers in [
        &[("origin", EVIL)][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
    ] {
        for (endpoint, body) in
            [("set_paused", "paused=true"), ("purge_dead_letters", ""), ("kill_stage", kill)]
        {
            for content_type in [form, "text/plain"] {
                let answer = post(&s, &format!("/rpc/{endpoint}"), Some(content_type), body, headers).await;
                refused_with(403, &answer, "cross-site request refused");
            }
        }
    }
    let after = s.stats().await;
    assert!(!after.pipeline.controls.paused, "not paused");
    assert_eq!(after.dead_letters.stored, 1, "not purged");
    assert_eq!(after.pipeline.restarts, before.pipeline.restarts, "no stage killed");
    // The same call from the page itself (or from curl) goes through.
    let port = s.addr.port();
    let own = format!("http://127.0.0.1:{port}");
    let (status, _, _) = post(&s, "/rpc/set_paused", Some(form), "paused=true", &[("origin", &own)]).await;
    assert_eq!(status, 200);
    assert!(s.stats().await.pipeline.controls.paused, "paused by a same-origin call");
    let same = [("sec-fetch-site", "same-origin"), ("origin", own.as_str())];
    assert_eq!(post(&s, "/rpc/set_paused", Some(form), "paused=false", &same).await.0, 200);
    assert!(!s.stats().await.pipeline.controls.paused);
    assert_eq!(s.call::<u64>("purge_dead_letters", &[]).await, 1, "no Origin, no Sec-Fetch-Site: a script");
    // Another name the server answers for is its own origin under that name.
    let local = format!("localhost:{port}");
    let via_localhost = [("host", local.as_str()), ("origin", &format!("http://{local}"))];
    assert_eq!(post(&s, "/rpc/set_paused", Some(form), "paused=true", &via_localhost).await.0, 200);
    s.stop().await;
}

/// Catches: `/api/events` accepting a body not declared as JSON (any page's `<form>` or
/// `fetch` with `text/plain` could inject events), or a cross-site JSON post.
#[tokio::test]
async fn events_are_taken_only_as_json_from_this_site() {
    let s = TestServer::start().await;
    let body = serde_json::json!([reading("a", "humidity", 5.0)]).to_string();
    for content_type in
        [Some("text/plain"), None, Some("application/x-www-form-urlencoded"), Some("multipart/form-data")]
    {
        let answer = post(&s, "/api/events", content_type, &body, &[]).await;
        refused_with(415, &answer, "expected Content-Type: application/json");
    }
    let answer = post(&s, "/api/events", Some("application/json"), &body, &[("origin", EVIL)]).await;
    refused_with(403, &answer, "evil.example");
    assert_eq!(s.stats().await.published, 0, "nothing published");
    let answer = post(&s, "/api/events", Some("application/json; charset=utf-8"), &body, &[]).await;
    assert_eq!(answer.0, 202, "{}", answer.2);
    assert_eq!(s.idle_stats().await.published, 1);
    s.stop().await;
}

/// Catches: the host check missing (DNS rebinding: a page on evil.example, resolved to
/// 127.0.0.1, reads and drives Pulse), or `--allowed-hosts` not reaching the server.
#[tokio::test]
async fn unknown_host_names_get_421() {
    let s = TestServer::start().await;
    let port = s.addr.port();
    for host in [format!("evil.example:{port}"), "evil.example".into(), format!("localhost:{}", port + 1)] {
        let res = s.http.get(s.url("/api/stats")).header("host", &host).send().await.expect("request");
        let answer = (res.status().as_u16(), res.headers().clone(), res.text().await.expect("body"));
        refused_with(421, &answer, "does not answer for host");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let res = s.http.get(s.url("/api/stats")).header("host", &host).send().await.expect("request");
        assert_eq!(res.status(), 200, "{host}");
    }
    s.stop().await;

    let config =
        ServerConfig { allowed_hosts: vec!["pulse.example".parse().expect("host")], ..Default::default() };
    let s = TestServer::with_config(config).await;
    let get = |host: &'static str| s.http.get(s.url("/healthz")).header("host", host).send();
    assert_eq!(get("pulse.example").await.expect("request").status(), 200);
    assert_eq!(get("PULSE.example:8443").await.expect("request").status(), 200);
    assert_eq!(
        s.http.get(s.url("/healthz")).send().await.expect("request").status(),
        421,
        "defaults replaced"
    );
    s.stop().await;
}

/// Catches: `/ws` upgrading for any page (a WebSocket is not bound by the same-origin policy).
#[tokio::test]
async fn the_websocket_refuses_other_sites() {
    let s = TestServer::start().await;
    let upgrade = |origin: Option<String>| {
        let mut req = format!("ws://{}/ws", s.addr).into_client_request().expect("request");
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().expect("header"));
        }
        connect_async(req)
    };
    match upgrade(Some(EVIL.into())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("a cross-site upgrade must be refused: {:?}", other.map(|(_, r)| r.status())),
    }
    let own = upgrade(Some(format!("http://{}", s.addr))).await.expect("same-origin upgrade");
    assert_eq!(own.1.status(), 101);
    drop(own);
    assert_eq!(upgrade(None).await.expect("no Origin: not a browser").1.status(), 101);
    s.stop().await;
}

/// The security headers a response must carry.
fn assert_secured(what: &str, headers: &HeaderMap) {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    let csp = h("content-security-policy");
    for part in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(part), "{what}: {part} in {csp:?}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
}

/// Catches: a response without the headers (a route or a refusal outside the layer), and a page
/// whose CSP does not name its scripts' nonce (the page would never hydrate) or names a nonce
/// on a non-page answer.
#[tokio::test]
async fn every_answer_carries_the_security_headers_and_pages_their_nonce() {
    let site = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(site.path().join("pkg")).expect("pkg dir");
    std::fs::write(site.path().join("pkg/pulse.css"), "main {}").expect("a static file");
    let site_root = site.path().to_str().expect("UTF-8").to_owned();
    let s = TestServer::with_config(ServerConfig { site_root, ..Default::default() }).await;
    for path in ["/", "/dashboard", "/no-such-page"] {
        let res = s.http.get(s.url(path)).send().await.expect("request");
        let headers = res.headers().clone();
        assert_secured(path, &headers);
        let csp = headers["content-security-policy"].to_str().expect("ASCII").to_owned();
        let nonce =
            csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_owned();
        let html = res.text().await.expect("html");
        let scripts = html.matches("<script").count();
        assert!(scripts >= 1, "{path}: the hydration script");
        assert_eq!(
            html.matches(&format!("<script nonce=\"{nonce}\"")).count()
                + html.matches(&format!("<script type=\"module\" nonce=\"{nonce}\"")).count(),
            scripts,
            "{path}: every script carries the CSP's nonce"
        );
    }
    let again = s.http.get(s.url("/")).send().await.expect("request");
    let first = s.http.get(s.url("/")).send().await.expect("request");
    assert_ne!(
        again.headers()["content-security-policy"],
        first.headers()["content-security-policy"],
        "a nonce per page"
    );
    for path in ["/api/stats", "/healthz", "/metrics", "/api/dashboard", "/api/nope", "/pkg/pulse.css"] {
        let res = s.http.get(s.url(path)).send().await.expect("request");
        assert!(res.status().is_success() || path == "/api/nope", "{path}: {}", res.status());
        assert_secured(path, res.headers());
        assert!(
            !res.headers()["content-security-policy"].to_str().expect("ASCII").contains("nonce"),
            "{path}"
        );
    }
    let body = serde_json::json!([reading("a", "humidity", 5.0)]).to_string();
    for (what, answer) in [
        ("202", post(&s, "/api/events", Some("application/json"), &body, &[]).await),
        ("415", post(&s, "/api/events", Some("text/plain"), &body, &[]).await),
        ("403", post(&s, "/rpc/set_paused", None, "paused=true", &[("origin", EVIL)]).await),
        ("421", post(&s, "/api/events", Some("application/json"), &body, &[("host", "evil.example")]).await),
        (
            "rpc",
            post(&s, "/rpc/set_paused", Some("application/x-www-form-urlencoded"), "paused=false", &[]).await,
        ),
    ] {
        assert_secured(what, &answer.1);
    }
    s.stop().await;
}

/// Catches: the dashboard (JSON or its server function) telling any caller where the server
/// keeps its data.
#[tokio::test]
async fn the_dashboard_shows_no_server_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().canonicalize().expect("absolute path");
    let path = path.to_str().expect("UTF-8 path").to_owned();
    let s =
        TestServer::with_config(ServerConfig { data_dir: dir.path().to_path_buf(), ..Default::default() })
            .await;
    // Wait for a system sample (its disk figures are there once it was taken).
    let mut dashboard = String::new();
    for _ in 0..200 {
        dashboard =
            s.http.get(s.url("/api/dashboard")).send().await.expect("request").text().await.expect("body");
        let v: serde_json::Value = serde_json::from_str(&dashboard).expect("JSON");
        if v["system"]["disk_total_bytes"].as_u64().is_some_and(|b| b > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dashboard.contains("disk_total_bytes\":"), "{dashboard}");
    let temp = std::env::temp_dir();
    for leak in [path.as_str(), dir.path().to_str().expect("UTF-8"), temp.to_str().expect("UTF-8")] {
        assert!(!dashboard.contains(leak), "/api/dashboard names {leak}");
    }
    let rpc = s
        .http
        .post(s.url("/rpc/poll_dashboard"))
        .form(&[("since", "0"), ("log_since", "0"), ("level", "debug")])
        .send()
        .await
        .expect("request");
    assert_eq!(rpc.status(), 200);
    let bytes = rpc.bytes().await.expect("body");
    assert!(!bytes.windows(path.len()).any(|w| w == path.as_bytes()), "poll_dashboard names the data dir");
    s.stop().await;
}
