//! The dashboard and `/metrics` against a real server: the Prometheus scrape parses with a
//! Prometheus text parser and carries every area's metrics with units in their names; the
//! dashboard's poll returns history and refuses bad input; the first paint shows real values.

mod common;

use common::{TestServer, reading};
use prometheus_parse::{Scrape, Value};

async fn scrape(s: &TestServer) -> (String, Scrape) {
    let res = s.http.get(s.url("/metrics")).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().expect("ascii").to_string();
    let text = res.text().await.expect("body");
    let parsed = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("valid exposition");
    (content_type, parsed)
}

fn value(scrape: &Scrape, metric: &str) -> Option<f64> {
    scrape.samples.iter().find(|s| s.metric == metric).and_then(|s| match &s.value {
        Value::Counter(v) | Value::Gauge(v) => Some(*v),
        _ => None,
    })
}

#[tokio::test]
async fn metrics_scrape_parses_and_covers_every_area() {
    let s = TestServer::start().await;
    let events: Vec<_> = (0..50).map(|i| reading(&format!("s{i}"), "humidity", 50.0)).collect();
    assert_eq!(s.post_events(serde_json::json!(events).to_string()).await.0, 202);
    s.idle_stats().await;
    let (content_type, scrape) = scrape(&s).await;
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    assert_eq!(value(&scrape, "pulse_pipeline_processed_messages_total"), Some(50.0));
    assert_eq!(value(&scrape, "pulse_pipeline_published_messages_total"), Some(50.0));
    assert_eq!(value(&scrape, "pulse_pipeline_in_flight_messages"), Some(0.0));
    let stages: Vec<_> = scrape
        .samples
        .iter()
        .filter(|x| x.metric == "pulse_pipeline_stage_received_messages_total")
        .collect();
    assert_eq!(stages.len(), s.stats().await.pipeline.stages.len());
    assert!(stages.iter().all(|x| x.labels.get("stage").is_some()));
    assert_eq!(value(&scrape, "pulse_pubsub_topic_subscribers"), Some(1.0));
    assert_eq!(value(&scrape, "pulse_websocket_connections"), Some(0.0));
    let requests = scrape
        .samples
        .iter()
        .find(|x| x.metric == "pulse_http_requests_total" && x.labels.get("status") == Some("202"))
        .expect("the POST was counted");
    assert!(matches!(requests.value, Value::Counter(n) if n >= 1.0));
    let histogram = scrape
        .samples
        .iter()
        .find(|x| x.metric == "pulse_http_request_duration_seconds")
        .expect("duration histogram");
    assert!(matches!(&histogram.value, Value::Histogram(b) if b.len() == 6), "{:?}", histogram.value);
    for sample in &scrape.samples {
        assert!(sample.metric.starts_with("pulse_"), "{}", sample.metric);
        // The parser leaves a histogram's `_sum` and `_count` untyped; everything else is typed.
        let histogram_part = ["_sum", "_count"].iter().any(|p| {
            sample.metric.strip_suffix(p).is_some_and(|base| {
                scrape.samples.iter().any(|h| h.metric == base && matches!(h.value, Value::Histogram(_)))
            })
        });
        assert!(
            histogram_part || !matches!(sample.value, Value::Untyped(_)),
            "{} has no type",
            sample.metric
        );
        if matches!(sample.value, Value::Counter(_)) {
            assert!(sample.metric.ends_with("_total"), "{}", sample.metric);
        }
    }
    let om = s
        .http
        .get(s.url("/metrics"))
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .expect("request");
    assert!(
        om.headers()["content-type"].to_str().is_ok_and(|c| c.starts_with("application/openmetrics-text"))
    );
    assert!(om.text().await.expect("body").trim_end().ends_with("# EOF"));
    s.stop().await;
}

#[tokio::test]
async fn the_dashboard_poll_returns_history_and_system_figures() {
    let s = TestServer::start().await;
    let res = s.http.get(s.url("/api/dashboard?since=0&level=info&refresh=5")).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("JSON");
    let rows = body["rows"].as_array().expect("rows");
    assert!(!rows.is_empty(), "a row is sampled at start");
    assert_eq!(rows[0]["values"].as_array().map(Vec::len), Some(app::model::catalogue::row_width()));
    assert_eq!(body["system"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["system"]["rss_bytes"].as_u64().unwrap_or(0) > 0);
    let last = rows.last().and_then(|r| r["seq"].as_u64()).expect("seq");
    let newer: serde_json::Value = s
        .http
        .get(s.url(&format!("/api/dashboard?since={last}")))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert!(newer["rows"].as_array().expect("rows").iter().all(|r| r["seq"].as_u64() > Some(last)));
    // The server function the page polls answers the same.
    let res = s
        .http
        .post(s.url("/rpc/poll_dashboard"))
        .form(&[("since", "0"), ("log_since", "0"), ("level", "warn")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn bad_dashboard_input_is_refused_with_a_readable_error() {
    let s = TestServer::start().await;
    for (query, says) in [
        ("level=loud", "level must be one of"),
        ("refresh=3", "refresh must be one of 1, 2, 5 or 15"),
        ("since=-4", "since must be a non-negative integer"),
    ] {
        let res = s.http.get(s.url(&format!("/api/dashboard?{query}"))).send().await.expect("request");
        assert_eq!(res.status(), 400, "{query}");
        let body: serde_json::Value = res.json().await.expect("JSON error");
        assert!(body["error"].as_str().is_some_and(|e| e.contains(says)), "{query}: {body}");
    }
    let res = s
        .http
        .post(s.url("/rpc/poll_dashboard"))
        .form(&[("since", "0"), ("log_since", "0"), ("level", "loud")])
        .send()
        .await
        .expect("request");
    assert!(!res.status().is_success());
    assert!(res.text().await.expect("body").contains("level must be one of"));
    let page = s.http.get(s.url("/dashboard?refresh=7")).send().await.expect("request");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("refresh must be one of 1, 2, 5 or 15 seconds"));
    s.stop().await;
}

#[tokio::test]
async fn the_dashboard_first_paint_shows_real_values() {
    let s = TestServer::start().await;
    let html = s.html("/dashboard").await;
    assert!(html.contains("Pulse dashboard"));
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    assert!(html.contains("data-testid=\"home-rss\""));
    let stats = s.stats().await;
    let html = s.html("/dashboard?tab=pipeline").await;
    for stage in &stats.pipeline.stages {
        assert!(html.contains(&format!("data-stage=\"{}\"", stage.name)), "{} missing", stage.name);
    }
    let html = s.html("/dashboard?tab=metrics").await;
    for def in app::model::catalogue::CATALOGUE {
        assert!(html.contains(&format!("data-testid=\"chart-{}\"", def.id)), "{} missing", def.id);
    }
    s.stop().await;
}

#[tokio::test]
async fn log_lines_are_rendered_as_text() {
    let s = TestServer::start().await;
    pulse_server::observe::logs::LogTail::global().push(app::model::LogLine {
        seq: 0,
        t_ms: 0,
        level: app::model::LogLevel::Warn,
        target: "test".into(),
        message: "<script>alert('x')</script>".into(),
    });
    let html = s.html("/dashboard?tab=logs").await;
    assert!(html.contains("&lt;script&gt;alert("), "the message is escaped");
    assert!(!html.contains("<script>alert("), "never inserted as markup");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_paints_all_render() {
    let s = TestServer::start().await;
    for round in 0..3 {
        let pages = (0..12).map(|i| {
            let (http, url) = (
                s.http.clone(),
                s.url(["/dashboard?tab=metrics", "/dashboard", "/dashboard?tab=pipeline"][i % 3]),
            );
            tokio::spawn(async move { http.get(url).send().await.map(|r| r.status().as_u16()) })
        });
        for page in pages {
            let status = page.await.expect("task").map_err(|e| format!("round {round}: {e}"));
            assert_eq!(status, Ok(200));
        }
    }
    s.stop().await;
}
