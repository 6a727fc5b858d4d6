//! The dashboard and `/metrics` against a real server: the Prometheus scrape parses with a
//! Prometheus text parser, carries every area's metrics with units in their names and passes
//! `promtool check metrics` (Prometheus' own linter) after traffic of every kind; the
//! dashboard's poll returns history and refuses bad input; the first paint shows real values.

mod common;

use common::{TestServer, reading};
use futures_util::StreamExt;
use prometheus_parse::{Scrape, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

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

/// Whether `promtool` runs. Missing, it fails the test under CI (`CI` set) and is skipped with a
/// note otherwise.
fn promtool_present() -> bool {
    match Command::new("promtool").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(_) => true,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!(
                "promtool cannot be run ({e}): install Debian's `prometheus` package (apt-get install prometheus)"
            )
        }
        Err(e) => {
            eprintln!(
                "note: skipping the promtool lint: promtool cannot be run ({e}); install Debian's `prometheus` package to run it"
            );
            false
        }
    }
}

/// `promtool check metrics` on `exposition` (fed on stdin): did it pass, and what it said.
fn promtool_check(exposition: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    // promtool reads all of its input before it writes anything, so this cannot dead-lock.
    child.stdin.take().expect("piped stdin").write_all(exposition.as_bytes()).expect("write to promtool");
    let out = child.wait_with_output().expect("promtool finishes");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

#[tokio::test]
async fn promtool_finds_nothing_to_lint_after_traffic() {
    if !promtool_present() {
        return;
    }
    // The linter is live: a counter without HELP and without `_total` is reported.
    let (passed, said) = promtool_check("# TYPE pulse_lint_probe counter\npulse_lint_probe 1\n");
    assert!(!passed && said.contains("pulse_lint_probe"), "promtool let a bad exposition through: {said}");

    let s = TestServer::start().await;
    // A WebSocket client: an open socket, and messages and bytes sent to it.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr)).await.expect("WebSocket connects");
    let first = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame within 5 s");
    assert!(first.is_some_and(|f| f.is_ok()), "the socket got its first frame");
    // Events that succeed, events that fail in the pipeline (out of range), and refused requests.
    let mut events: Vec<_> = (0..40).map(|i| reading(&format!("s{i}"), "humidity", 50.0)).collect();
    events.extend((0..10).map(|i| reading(&format!("t{i}"), "temperature", 400.0)));
    assert_eq!(s.post_events(serde_json::json!(events).to_string()).await.0, 202);
    assert_eq!(s.post_events("{not json").await.0, 400);
    s.until("40 processed, 10 failed", |st| st.processed == 40 && st.failed == 10 && st.in_flight == 0).await;

    let res = s.http.get(s.url("/metrics")).send().await.expect("request");
    assert!(res.headers()["content-type"].to_str().is_ok_and(|c| c.starts_with("text/plain; version=0.0.4")));
    let text = res.text().await.expect("body");
    for family in [
        "pulse_pipeline_failed_messages_total",
        "pulse_websocket_sent_bytes_total",
        "pulse_pubsub_subscriber_delivered_messages_total",
        "pulse_pipeline_ack_latency_p99_seconds",
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "{family} has no HELP:\n{text}");
    }
    assert!(text.contains("\npulse_websocket_connections 1"), "the socket is counted:\n{text}");
    assert!(text.contains("\npulse_pipeline_failed_messages_total 10\n"), "{text}");
    let (passed, said) = promtool_check(&text);
    assert!(passed && said.is_empty(), "promtool check metrics:\n{said}\non:\n{text}");

    // promtool reads text 0.0.4 only (fed OpenMetrics it misses every counter's HELP, which
    // names the family without `_total`): the OpenMetrics answer must carry the same series.
    let om = s
        .http
        .get(s.url("/metrics"))
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let series = |t: &str| -> std::collections::BTreeSet<String> {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' ').map(|(series, _value)| series.to_string()))
            .collect()
    };
    assert_eq!(series(&om), series(&text), "OpenMetrics:\n{om}");
    assert!(om.trim_end().ends_with("# EOF"), "{om}");
    drop(ws);
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
