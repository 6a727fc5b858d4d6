//! The pipeline's run-time controls and overload behaviour, driven through server functions
//! and HTTP against a real server on 127.0.0.1:0.

mod common;

use common::{TestServer, reading};
use pulse_server::ServerConfig;
use std::time::Duration;

fn batch(n: usize) -> String {
    serde_json::Value::Array((0..n).map(|i| reading(&format!("s-{i}"), "humidity", 40.0)).collect())
        .to_string()
}

/// Polls the stats until `cond` holds (at most 10 s).
async fn until(s: &TestServer, what: &str, cond: impl Fn(&app::model::StatsSnapshot) -> bool) {
    for _ in 0..200 {
        if cond(&s.stats().await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}: {:?}", s.stats().await);
}

#[tokio::test]
async fn concurrency_changes_at_run_time_and_bad_values_are_refused() {
    let s = TestServer::start().await;
    assert_eq!(s.rpc("set_concurrency", &[("concurrency", "6")]).await, (200, "2".into()));
    let stats = s.stats().await;
    assert_eq!(stats.pipeline.topology.processors.concurrency, 6);
    assert_eq!(stats.pipeline.controls.concurrency, 6);
    let processors = stats.pipeline.stages.iter().filter(|st| st.name.starts_with("processor")).count();
    assert_eq!(processors, 6);
    for bad in ["0", "17"] {
        let (status, body) = s.rpc("set_concurrency", &[("concurrency", bad)]).await;
        assert_ne!(status, 200);
        assert!(body.contains("concurrency must be between 1 and 16"), "{body}");
    }
    assert_eq!(s.rpc("set_concurrency", &[("concurrency", "1")]).await, (200, "6".into()));
    let (status, _) = s.post_events(batch(500)).await;
    assert_eq!(status, 202);
    let last = s.idle_stats().await;
    assert_eq!((last.processed, last.pipeline.controls.concurrency), (500, 1));
    s.stop().await;
}

#[tokio::test]
async fn a_paused_pipeline_fills_its_buffer_then_refuses_with_503_and_retry_after() {
    let s = TestServer::with_config(ServerConfig { buffer: 100, ..ServerConfig::default() }).await;
    assert_eq!(s.rpc("set_paused", &[("paused", "true")]).await.0, 200);
    assert!(s.stats().await.pipeline.controls.paused);
    assert_eq!(s.post_events(batch(60)).await.0, 202);
    until(&s, "60 in the buffer", |st| st.in_flight == 60).await;
    // 60 + 60 > 100: none of the second batch is taken, and the client is told to come back.
    let res = s
        .http
        .post(s.url("/api/events"))
        .header("content-type", "application/json")
        .body(batch(60))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("pipeline is full")), "{body}");
    let paused = s.stats().await;
    assert_eq!((paused.published, paused.processed, paused.in_flight), (60, 0, 60), "nothing processed");
    assert_eq!(s.rpc("set_paused", &[("paused", "false")]).await.0, 200);
    let last = s.idle_stats().await;
    assert_eq!((last.published, last.processed, last.dropped), (60, 60, 0));
    assert!(last.balances());
    s.stop().await;
}

#[tokio::test]
async fn the_rate_limit_is_read_set_and_lifted_through_server_functions() {
    let s = TestServer::start().await;
    let set = [("allowed_messages", "50"), ("interval_ms", "100")];
    assert_eq!(s.rpc("set_rate_limit", &set).await.0, 200);
    let (status, body) = s.rpc("get_controls", &[]).await;
    assert_eq!(status, 200);
    let controls: app::model::PipelineControls = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        controls.rate_limit,
        Some(app::model::RateLimitSetting { allowed_messages: 50, interval_ms: 100 })
    );
    assert_eq!(s.post_events(batch(150)).await.0, 202);
    let started = std::time::Instant::now();
    s.idle_stats().await;
    assert!(started.elapsed() >= Duration::from_millis(180), "150 at 50 per 100 ms take 3 windows");
    let (status, body) = s.rpc("set_rate_limit", &[("allowed_messages", "0"), ("interval_ms", "100")]).await;
    assert!(status != 200 && body.contains("allowed_messages must be at least 1"), "{body}");
    assert_eq!(s.rpc("set_rate_limit", &[]).await.0, 200, "no arguments lift the limit");
    assert_eq!(s.stats().await.pipeline.controls.rate_limit, None);
    s.stop().await;
}

#[tokio::test]
async fn the_simulators_excess_is_counted_as_dropped_and_the_ledger_balances() {
    // A paused pipeline with a small buffer: almost everything the simulator sends is excess.
    let s = TestServer::with_config(ServerConfig { buffer: 1_000, ..ServerConfig::default() }).await;
    assert_eq!(s.rpc("set_paused", &[("paused", "true")]).await.0, 200);
    let start = [("rate_per_s", "100000"), ("invalid_pct", "50")];
    assert_eq!(s.rpc("start_simulator", &start).await.0, 200);
    until(&s, "drops", |st| st.simulator.dropped > 5_000).await;
    assert_eq!(s.rpc("stop_simulator", &[]).await.0, 200);
    let stopped = s.stats().await;
    assert!(!stopped.simulator.running);
    assert!(stopped.in_flight <= 1_000, "the buffer bounds what waits: {}", stopped.in_flight);
    assert!(stopped.drop_reasons.iter().any(|r| r.reason == "pipeline full: publisher's excess"));
    assert_eq!(s.rpc("set_paused", &[("paused", "false")]).await.0, 200);
    let last = s.idle_stats().await;
    assert!(last.balances());
    assert_eq!(last.published, last.simulator.published);
    assert_eq!(last.dropped, last.simulator.dropped);
    assert!(last.failed > 0, "half of what got in was out of range");
    for bad in [[("rate_per_s", "0"), ("invalid_pct", "5")], [("rate_per_s", "10"), ("invalid_pct", "101")]] {
        let (status, body) = s.rpc("start_simulator", &bad).await;
        assert!(status != 200 && body.contains("between"), "{body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_snapshot_shows_the_pipelines_subscription() {
    let s = TestServer::start().await;
    assert_eq!(s.post_events(batch(10)).await.0, 202);
    let stats = s.idle_stats().await;
    let sub =
        stats.pubsub.subscribers.iter().find(|x| x.name == "pipeline").expect("the pipeline subscribes");
    assert_eq!(sub.patterns, ["events"]);
    assert_eq!(sub.capacity, 65_536);
    assert_eq!((sub.delivered, sub.lost), (10, 0));
    let topic = stats.pubsub.topics.iter().find(|t| t.topic == "events").expect("events topic");
    assert_eq!((topic.subscribers, topic.published), (1, 10));
    s.stop().await;
}
