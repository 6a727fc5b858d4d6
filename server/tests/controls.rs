//! The pipeline's run-time controls and overload behaviour, driven through server functions
//! and HTTP against a real server on 127.0.0.1:0.

mod common;

use app::error::AppError;
use common::{TestServer, reading};
use pulse_server::ServerConfig;
use std::time::Duration;

fn batch(n: usize) -> String {
    serde_json::Value::Array((0..n).map(|i| reading(&format!("s-{i}"), "humidity", 40.0)).collect())
        .to_string()
}

#[tokio::test]
async fn concurrency_changes_at_run_time_and_bad_values_are_refused() {
    let s = TestServer::start().await;
    assert_eq!(s.call::<u32>("set_concurrency", &[("concurrency", "6")]).await, 2);
    let stats = s.stats().await;
    assert_eq!(stats.pipeline.topology.processors.concurrency, 6);
    assert_eq!(stats.pipeline.controls.concurrency, 6);
    let processors =
        stats.pipeline.stages.iter().filter(|st| st.role() == app::model::StageRole::Processor).count();
    assert_eq!(processors, 6);
    for bad in ["0", "17"] {
        let (status, e) = s.refused("set_concurrency", &[("concurrency", bad)]).await;
        assert_eq!(status, 400, "a bad value is the caller's mistake: {e}");
        assert_eq!(e, AppError::InvalidArgument(format!("concurrency must be between 1 and 16, got {bad}")));
    }
    assert_eq!(s.call::<u32>("set_concurrency", &[("concurrency", "1")]).await, 6);
    let (status, _) = s.post_events(batch(500)).await;
    assert_eq!(status, 202);
    let last = s.idle_stats().await;
    assert_eq!((last.processed, last.pipeline.controls.concurrency), (500, 1));
    s.stop().await;
}

#[tokio::test]
async fn a_paused_pipeline_fills_its_buffer_then_refuses_with_503_and_retry_after() {
    let s = TestServer::with_config(ServerConfig { buffer: 100, ..ServerConfig::default() }).await;
    s.call::<()>("set_paused", &[("paused", "true")]).await;
    assert!(s.stats().await.pipeline.controls.paused);
    assert_eq!(s.post_events(batch(60)).await.0, 202);
    s.until("60 in the buffer", |st| st.in_flight == 60).await;
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
    s.call::<()>("set_paused", &[("paused", "false")]).await;
    let last = s.idle_stats().await;
    assert_eq!((last.published, last.processed, last.dropped), (60, 60, 0));
    assert!(last.balances());
    s.stop().await;
}

#[tokio::test]
async fn the_rate_limit_is_read_set_and_lifted_through_server_functions() {
    let s = TestServer::start().await;
    // 50 messages a minute: the first 50 go through, the other 100 wait for the next window.
    let set = [("allowed_messages", "50"), ("interval_ms", "60000")];
    s.call::<()>("set_rate_limit", &set).await;
    let controls: app::model::PipelineControls = s.call("get_controls", &[]).await;
    assert_eq!(
        controls.rate_limit,
        Some(app::model::RateLimitSetting { allowed_messages: 50, interval_ms: 60_000 })
    );
    assert_eq!(s.post_events(batch(150)).await.0, 202);
    // Without a limit this state would pass by: all 150 would be processed at once.
    s.until("50 processed, 100 held by the limit", |st| st.processed == 50 && st.in_flight == 100).await;
    let (status, e) = s.refused("set_rate_limit", &[("allowed_messages", "0"), ("interval_ms", "100")]).await;
    assert_eq!(status, 400);
    assert!(e.to_string().contains("allowed_messages must be at least 1"), "{e}");
    s.call::<()>("set_rate_limit", &[]).await;
    assert_eq!(s.stats().await.pipeline.controls.rate_limit, None, "no arguments lift the limit");
    assert_eq!(s.idle_stats().await.processed, 150, "lifted: the held 100 go through");
    s.stop().await;
}

#[tokio::test]
async fn the_simulators_excess_is_counted_as_dropped_and_the_ledger_balances() {
    // A paused pipeline with a small buffer: almost everything the simulator sends is excess.
    let s = TestServer::with_config(ServerConfig { buffer: 1_000, ..ServerConfig::default() }).await;
    s.call::<()>("set_paused", &[("paused", "true")]).await;
    let start = [("rate_per_s", "100000"), ("invalid_pct", "50")];
    s.call::<()>("start_simulator", &start).await;
    s.until("drops", |st| st.simulator.dropped > 5_000).await;
    s.call::<()>("stop_simulator", &[]).await;
    let stopped = s.stats().await;
    assert!(!stopped.simulator.running);
    assert!(stopped.in_flight <= 1_000, "the buffer bounds what waits: {}", stopped.in_flight);
    assert!(stopped.drop_reasons.iter().any(|r| r.reason == "pipeline full: publisher's excess"));
    s.call::<()>("set_paused", &[("paused", "false")]).await;
    let last = s.idle_stats().await;
    assert!(last.balances());
    assert_eq!(last.published, last.simulator.published);
    assert_eq!(last.dropped, last.simulator.dropped);
    assert!(last.failed > 0, "half of what got in was out of range");
    for bad in [[("rate_per_s", "9"), ("invalid_pct", "5")], [("rate_per_s", "10"), ("invalid_pct", "101")]] {
        let (status, e) = s.refused("start_simulator", &bad).await;
        assert!(status == 400 && e.to_string().contains("between"), "{status} {e}");
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

#[tokio::test]
async fn taps_and_broadcasts_reach_the_pubsub_from_server_functions() {
    let s = TestServer::start().await;
    let tap =
        [("pattern", "sensors.*"), ("capacity", "10"), ("overflow", "drop_newest"), ("read_per_s", "0")];
    let id = s.call::<u64>("add_tap", &tap).await.to_string();
    let other =
        [("pattern", "sensors.>"), ("capacity", "100"), ("overflow", "drop_oldest"), ("read_per_s", "0")];
    let other_id = s.call::<u64>("add_tap", &other).await.to_string();
    // broadcast_from skips the sender: only the other tap receives these 5.
    let from = [("topic", "sensors.humidity"), ("count", "5"), ("from", id.as_str()), ("local", "false")];
    assert_eq!(s.call::<u64>("broadcast", &from).await, 5);
    let all = [("topic", "sensors.humidity"), ("count", "25"), ("local", "true")];
    s.call::<u64>("broadcast", &all).await;
    let stats = s.stats().await.pubsub;
    let find = |id: &str| stats.subscribers.iter().find(|x| x.id.to_string() == id).expect("listed").clone();
    let (a, b) = (find(&id), find(&other_id));
    assert_eq!((a.buffered, a.lost, a.overflow), (10, 15, app::model::OverflowPolicy::DropNewest));
    assert_eq!((b.buffered, b.lost), (30, 0));
    assert_eq!(s.stats().await.published, 0, "other topics stay outside the pipeline's ledger");
    for (bad, says) in [
        (
            vec![("pattern", "sensors..x"), ("capacity", "10"), ("overflow", "block"), ("read_per_s", "1")],
            "invalid topic",
        ),
        (vec![("pattern", "a"), ("capacity", "0"), ("overflow", "block"), ("read_per_s", "1")], "capacity"),
    ] {
        let (status, e) = s.refused("add_tap", &bad).await;
        assert!(status == 400 && e.to_string().contains(says), "{status} {e}");
    }
    let on_pipeline = [("topic", "events"), ("count", "3"), ("local", "true")];
    let (status, e) = s.refused("broadcast", &on_pipeline).await;
    assert!(status == 400 && e.to_string().contains("plain broadcasts only"), "{status} {e}");
    assert!(s.call::<bool>("remove_tap", &[("id", id.as_str())]).await);
    assert!(!s.stats().await.pubsub.subscribers.iter().any(|x| x.id.to_string() == id));
    s.stop().await;
}

#[tokio::test]
async fn a_crashing_reading_is_retried_then_failed_with_the_panic_as_reason() {
    let mut config = ServerConfig::default();
    if let Some(r) = config.pipeline.retry.as_mut() {
        r.backoff = Duration::from_millis(5);
    }
    let s = TestServer::with_config(config).await;
    let body = serde_json::json!([reading("crash", "humidity", 40.0), reading("ok", "humidity", 40.0)]);
    assert_eq!(s.post_events(body.to_string()).await.0, 202);
    let last = s.idle_stats().await;
    assert_eq!((last.processed, last.failed), (1, 1));
    assert_eq!(last.pipeline.retried, 2, "3 attempts in all");
    assert!(last.failure_reasons.iter().any(|r| r.reason == "panic"), "{:?}", last.failure_reasons);
    assert_eq!(last.pipeline.restarts, 0, "a panic in a handler kills no stage");
    s.stop().await;
}
