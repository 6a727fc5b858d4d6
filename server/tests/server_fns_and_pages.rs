//! Server functions, the server-rendered page and the WebSocket stream against a real server.

mod common;

use app::error::AppError;
use common::{TestServer, reading};

#[tokio::test]
async fn publish_sample_publishes_generated_readings() {
    let s = TestServer::start().await;
    assert_eq!(s.call::<u64>("publish_sample", &[("count", "1000")]).await, 1000);
    let stats = s.idle_stats().await;
    assert_eq!(stats.published, 1000);
    assert!(stats.failed > 0 && stats.failed < 200, "about 5 % generated out of range: {}", stats.failed);
    assert!(stats.balances());
    s.stop().await;
}

#[tokio::test]
async fn publish_sample_refuses_bad_counts_with_a_readable_error() {
    let s = TestServer::start().await;
    for bad in ["0", "10001"] {
        let (status, e) = s.refused("publish_sample", &[("count", bad)]).await;
        assert_eq!(status, 400, "the caller's mistake, answered by the server function itself");
        assert_eq!(e, AppError::InvalidArgument(format!("count must be between 1 and 10000, got {bad}")));
    }
    for (form, what) in [(&[("count", "lots")][..], "not a number"), (&[][..], "missing")] {
        let (status, e) = s.refused("publish_sample", form).await;
        assert_eq!(status, 400, "{what}: arguments that do not decode are the caller's: {e:?}");
        assert!(matches!(e, AppError::ServerFn(_)), "{e:?}");
    }
    assert_eq!(s.stats().await.published, 0);
    s.stop().await;
}

#[tokio::test]
async fn the_first_paint_shows_current_numbers() {
    let s = TestServer::start().await;
    let (status, _) = s
        .post_events(
            serde_json::json!([reading("a", "humidity", 40.0), reading("b", "humidity", 140.0)]).to_string(),
        )
        .await;
    assert_eq!(status, 202);
    s.idle_stats().await;
    let html = s.html("/").await;
    assert!(html.contains("<h1>Pulse</h1>"), "{html}");
    assert!(html.contains(r#"data-testid="published">2<"#), "published count in first paint: {html}");
    assert!(html.contains(r#"data-testid="failed">1<"#), "failed count in first paint");
    s.stop().await;
}

/// Each page is its own document, picked by path on the server (there is no client router):
/// the right root for `/` and `/dashboard`, a 404 page for anything else.
#[tokio::test]
async fn each_path_renders_its_own_page_and_unknown_ones_are_404() {
    let s = TestServer::start().await;
    let dashboard = s.html("/dashboard?tab=os").await;
    assert!(dashboard.contains("<h1>Pulse dashboard</h1>"), "{dashboard}");
    assert!(
        dashboard.contains(r#"href="/dashboard?tab=os" aria-current="page""#),
        "tab from the query: {dashboard}"
    );
    assert!(!dashboard.contains("Page not found"));
    for path in ["/nope", "/dashboard/extra"] {
        let res = reqwest::get(s.url(path)).await.expect("request");
        assert_eq!(res.status(), 404, "{path}");
        let html = res.text().await.expect("html");
        assert!(html.contains("Page not found"), "{path}: {html}");
        assert!(!html.contains("Pulse dashboard"), "{path}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_everything_accepted() {
    let s = TestServer::start().await;
    let mut accepted = 0;
    for _ in 0..10 {
        let batch: Vec<_> =
            (0..500).map(|i| reading(&format!("s-{i}"), "pressure", 900.0 + f64::from(i % 100))).collect();
        let (status, body) = s.post_events(serde_json::Value::Array(batch).to_string()).await;
        assert_eq!(status, 202);
        accepted += body["accepted"].as_u64().expect("count");
    }
    let last = s.stop().await;
    assert_eq!(last.published, accepted);
    assert_eq!((last.processed, last.in_flight), (accepted, 0), "{last:?}");
}

/// Catches: the Cluster tab's server function missing, or an embedded server answering
/// anything but itself with its own ledger.
#[tokio::test]
async fn get_cluster_in_embedded_mode_is_this_node_with_its_ledger() {
    let s = TestServer::start().await;
    assert_eq!(s.call::<u64>("publish_sample", &[("count", "20")]).await, 20);
    let idle = s.idle_stats().await;
    let c: app::model::ClusterInfo = s.call("get_cluster", &[]).await;
    assert_eq!((c.bus.as_str(), c.node.as_str(), c.nodes.len()), ("embedded", "embedded", 1));
    assert_eq!(c.nodes[0].status, "alive");
    assert_eq!((c.total.published, c.total.finished()), (20, idle.processed + idle.failed));
    assert!(c.balances && c.in_flight == 0 && c.redis_version.is_none());
    s.stop().await;
}

/// Catches: "every node" doing nothing when the node is alone (embedded), or a bad value
/// applied anyway.
#[tokio::test]
async fn control_all_in_embedded_mode_applies_to_this_node() {
    let s = TestServer::start().await;
    assert_eq!(s.call::<u64>("control_all", &[("action", "pause")]).await, 0, "no other node");
    assert!(s.stats().await.pipeline.controls.paused);
    let (status, e) = s.refused("control_all", &[("action", "rate"), ("value", "0")]).await;
    assert_eq!(status, 400, "{e:?}");
    assert_eq!(s.stats().await.pipeline.controls.rate_limit, None, "nothing applied");
    assert_eq!(s.call::<u64>("control_all", &[("action", "resume")]).await, 0);
    assert!(!s.stats().await.pipeline.controls.paused);
    s.stop().await;
}
