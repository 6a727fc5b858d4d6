//! Who may act, against a real server: destructive controls off on an exposed listener without
//! a token, token-only with one (bearer or the unlock form's cookie), the page saying why, the
//! ingest token and the per-client ingest rate.

mod common;

use app::error::AppError;
use common::{TestServer, reading};
use pulse_server::ServerConfig;
use pulse_server::guard::Token;

const ADMIN: &str = "operator-secret-0123456789";
const INGEST: &str = "ingest-secret-0123456789";

fn token(t: &str) -> Option<Token> {
    Some(Token::new(t).expect("a valid token"))
}

/// A server fn call with extra headers: (status, the postcard error if refused).
async fn rpc_with(
    s: &TestServer,
    endpoint: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (u16, Option<AppError>) {
    let mut req = s.http.post(s.url(&format!("/rpc/{endpoint}"))).form(form);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let body = res.bytes().await.expect("body");
    (status, (status != 200).then(|| postcard::from_bytes(&body).expect("an AppError")))
}

async fn paused(s: &TestServer) -> bool {
    s.stats().await.pipeline.controls.paused
}

/// Catches: an exposed server (0.0.0.0) without a token that lets anyone kill, pause or purge;
/// read-only calls or publishing wrongly caught by the rule; a page that does not say why.
#[tokio::test]
async fn on_every_interface_without_a_token_the_destructive_controls_are_off() {
    let s = TestServer::bound(ServerConfig::default(), "0.0.0.0:0").await;
    for (endpoint, form) in [
        ("set_paused", vec![("paused", "true")]),
        ("purge_dead_letters", vec![]),
        ("crash_processor", vec![]),
        ("set_concurrency", vec![("concurrency", "5")]),
        ("start_simulator", vec![("rate_per_s", "100"), ("invalid_pct", "0")]),
    ] {
        let (status, error) = rpc_with(&s, endpoint, &form, &[]).await;
        assert_eq!(status, 403, "{endpoint}");
        match error {
            Some(AppError::Refused(403, why)) => assert!(why.contains("--admin-token"), "{endpoint}: {why}"),
            other => panic!("{endpoint}: {other:?}"),
        }
    }
    // Even the operator's bearer token cannot open what no token was set for.
    let (status, _) =
        rpc_with(&s, "set_paused", &[("paused", "true")], &[("authorization", &format!("Bearer {ADMIN}"))])
            .await;
    assert_eq!(status, 403);
    let st = s.stats().await;
    assert!(
        !st.pipeline.controls.paused && st.pipeline.controls.concurrency == 2 && st.simulator.rate_per_s == 0
    );
    // Reading and publishing stay open.
    let _: app::model::PipelineControls = s.call("get_controls", &[]).await;
    assert_eq!(s.call::<u64>("publish_sample", &[("count", "3")]).await, 3);
    let page = s.html("/").await;
    assert!(
        page.contains(r#"data-testid="locked-reason""#) && page.contains("not loopback"),
        "the page says why"
    );
    assert_eq!(page.matches(r#"<fieldset disabled class="lock">"#).count(), 2, "the controls are disabled");
    assert_eq!(page.matches(r#"<fieldset class="lock">"#).count(), 1, "publishing is not");
    assert!(!page.contains(r#"data-testid="unlock-form""#), "no token would unlock them");
}

/// Catches: a token that is not checked, checked only for some controls, compared wrongly,
/// or a cookie that is not HttpOnly / SameSite=Strict.
#[tokio::test]
async fn with_an_operator_token_every_caller_needs_it() {
    let config = ServerConfig { admin_token: token(ADMIN), ..ServerConfig::default() };
    let s = TestServer::with_config(config).await;
    let (status, error) = rpc_with(&s, "set_paused", &[("paused", "true")], &[]).await;
    assert!(matches!((status, &error), (401, Some(AppError::Refused(401, _)))), "{status} {error:?}");
    let wrong = format!("Bearer {ADMIN}x");
    assert_eq!(rpc_with(&s, "set_paused", &[("paused", "true")], &[("authorization", &wrong)]).await.0, 401);
    assert!(!paused(&s).await, "nothing changed");
    let right = format!("Bearer {ADMIN}");
    assert_eq!(rpc_with(&s, "set_paused", &[("paused", "true")], &[("authorization", &right)]).await.0, 200);
    assert!(paused(&s).await);

    let page = s.html("/").await;
    assert!(page.contains(r#"data-testid="unlock-form""#) && page.contains("operator token"), "{page}");

    // The unlock form: a wrong token sends the browser back with a flag and no cookie.
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let post = |token: &str, action: &str| {
        no_redirects
            .post(s.url("/api/session"))
            .form(&[("token", token), ("back", "/dashboard"), ("action", action)])
            .send()
    };
    let res = post("not-the-token-at-all", "").await.expect("request");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard?unlock=refused");
    assert!(res.headers().get("set-cookie").is_none());
    assert!(s.html("/?unlock=refused").await.contains(r#"data-testid="unlock-refused""#));

    let res = post(ADMIN, "").await.expect("request");
    assert_eq!(
        (res.status().as_u16(), &res.headers()["location"]),
        (303, &"/dashboard".parse().expect("value"))
    );
    let cookie = res.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("name=value").to_owned();
    assert_eq!(rpc_with(&s, "set_paused", &[("paused", "false")], &[("cookie", &session)]).await.0, 200);
    assert!(!paused(&s).await);
    let page = s
        .http
        .get(s.url("/"))
        .header("cookie", &session)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains(r#"data-testid="unlocked""#) && !page.contains("locked-reason"), "unlocked page");

    // Locking again clears the cookie.
    let res = post("", "lock").await.expect("request");
    assert!(res.headers()["set-cookie"].to_str().expect("ascii").contains("Max-Age=0"));
}

/// Catches: unlimited guessing of the operator token through the unlock form.
#[tokio::test]
async fn unlock_attempts_are_rate_limited_per_address() {
    let s =
        TestServer::with_config(ServerConfig { admin_token: token(ADMIN), ..ServerConfig::default() }).await;
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let res = client
            .post(s.url("/api/session"))
            .form(&[("token", "guess-guess-guess-guess")])
            .send()
            .await
            .expect("request");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses[..10], [303; 10]);
    assert_eq!(statuses[10], 429, "the 11th guess within a minute");
}

/// Catches: an ingest token that is not checked on `/api/events` or the page's publish calls,
/// or that shuts out the operator.
#[tokio::test]
async fn with_an_ingest_token_publishing_needs_it() {
    let config =
        ServerConfig { admin_token: token(ADMIN), ingest_token: token(INGEST), ..ServerConfig::default() };
    let s = TestServer::with_config(config).await;
    let body = serde_json::json!([reading("a", "temperature", 20.0)]).to_string();
    let post = |auth: Option<String>| {
        let mut req =
            s.http.post(s.url("/api/events")).header("content-type", "application/json").body(body.clone());
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send()
    };
    let res = post(None).await.expect("request");
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let json: serde_json::Value = res.json().await.expect("JSON");
    assert!(json["error"].as_str().is_some_and(|e| e.contains("ingest token")), "{json}");
    assert_eq!(post(Some(format!("Bearer {INGEST}"))).await.expect("request").status(), 202);
    assert_eq!(post(Some(format!("Bearer {ADMIN}"))).await.expect("request").status(), 202);
    assert_eq!(rpc_with(&s, "publish_sample", &[("count", "1")], &[]).await.0, 401);
    // The ingest token opens publishing only, not the controls.
    let ingest = format!("Bearer {INGEST}");
    assert_eq!(rpc_with(&s, "publish_sample", &[("count", "1")], &[("authorization", &ingest)]).await.0, 200);
    assert_eq!(rpc_with(&s, "set_paused", &[("paused", "true")], &[("authorization", &ingest)]).await.0, 401);
    assert_eq!(s.idle_stats().await.published, 3, "exactly the accepted publishes");
}

/// Catches: no per-client ingest limit, a 429 without `Retry-After`, or a limit that counts
/// requests instead of events.
#[tokio::test]
async fn a_client_over_its_ingest_rate_gets_429_with_retry_after() {
    let s = TestServer::with_config(ServerConfig {
        limits: pulse_server::Limits { ingest_rate_per_client: 10, ..ServerConfig::default().limits },
        ..ServerConfig::default()
    })
    .await;
    let batch = |n: usize| {
        serde_json::Value::Array((0..n).map(|_| reading("a", "temperature", 20.0)).collect()).to_string()
    };
    assert_eq!(s.post_events(batch(11)).await.0, 413, "more than a second's burst at once");
    assert_eq!(s.post_events(batch(10)).await.0, 202);
    let res = s
        .http
        .post(s.url("/api/events"))
        .header("content-type", "application/json")
        .body(batch(1))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!(wait >= 1);
    assert_eq!(s.idle_stats().await.published, 10, "the refused events were not published");
}
