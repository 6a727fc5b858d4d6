//! The engine as a running server reports it: topology, per-stage counts, latency and the
//! graceful drain, read through `GET /api/stats` like the UI does.

mod common;

use app::model::StageRole;
use common::{TestServer, reading};
use pulse_server::ServerConfig;
use serde_json::Value;

fn readings(n: usize) -> String {
    let all: Vec<Value> = (0..n)
        .map(|i| {
            // Every 10th reading is out of range and fails in the processors.
            let value = if i % 10 == 0 { 500.0 } else { 40.0 };
            reading(&format!("s-{}", i % 7), "humidity", value)
        })
        .collect();
    Value::Array(all).to_string()
}

#[tokio::test]
async fn the_snapshot_shows_the_topology_and_every_stage() {
    let mut config = ServerConfig::default();
    config.pipeline.processors.concurrency = 3;
    let s = TestServer::with_config(config).await;
    let p = s.stats().await.pipeline;
    assert_eq!(p.topology.producer, "pub/sub: events");
    assert_eq!(p.topology.processors.concurrency, 3);
    assert_eq!(p.topology.processors.max_demand, 10);
    assert_eq!(p.topology.batchers.len(), 1);
    assert_eq!((p.topology.batchers[0].name.as_str(), p.topology.batchers[0].batch_size), ("default", 100));
    let roles: Vec<StageRole> = p.stages.iter().map(|st| st.role()).collect();
    assert_eq!(
        roles,
        [
            StageRole::Producer,
            StageRole::Processor,
            StageRole::Processor,
            StageRole::Processor,
            StageRole::Batcher,
            StageRole::BatchProcessor
        ]
    );
    assert_eq!(p.stages[4].name, "batcher default");
    s.stop().await;
}

#[tokio::test]
async fn stage_counts_and_latency_add_up_once_idle() {
    let s = TestServer::start().await;
    let (status, _) = s.post_events(readings(3_000)).await;
    assert_eq!(status, 202);
    let stats = s.idle_stats().await;
    assert_eq!((stats.published, stats.processed, stats.failed), (3_000, 2_700, 300));
    let p = &stats.pipeline;
    let producer = &p.stages[0];
    assert_eq!(producer.received, 3_000, "the producer handed out every message");
    let processors: Vec<_> = p.stages.iter().filter(|st| st.role() == StageRole::Processor).collect();
    assert_eq!(processors.iter().map(|st| st.successful).sum::<u64>(), 2_700);
    assert_eq!(processors.iter().map(|st| st.failed).sum::<u64>(), 300);
    let batcher = p.stages.iter().find(|st| st.role() == StageRole::Batcher).expect("batcher");
    assert_eq!((batcher.received, batcher.successful, batcher.queue), (2_700, 2_700, 0));
    let bp = p.stages.iter().find(|st| st.role() == StageRole::BatchProcessor).expect("batch processor");
    assert_eq!((bp.received, bp.successful, bp.queue), (2_700, 2_700, 0));
    assert!(stats.batches >= 27, "batches of at most 100: {}", stats.batches);
    assert_eq!(p.processed_latency.count, 3_000);
    assert_eq!(p.ack_latency.count, 3_000);
    assert!(p.ack_latency.p50_us > 0.0 && p.ack_latency.p50_us <= p.ack_latency.p99_us);
    assert!(p.ack_latency.p99_us <= p.ack_latency.max_us);
    assert_eq!(p.restarts, 0);
    s.stop().await;
}

#[tokio::test]
async fn shutdown_drains_partial_batches_and_balances() {
    let mut config = ServerConfig::default();
    // A batch would wait up to a minute: only the drain can flush it in time.
    config.pipeline.batchers[0].batch_timeout = std::time::Duration::from_secs(60);
    let s = TestServer::with_config(config).await;
    let (status, _) = s.post_events(readings(150)).await;
    assert_eq!(status, 202);
    let last = s.stop().await;
    assert_eq!((last.published, last.processed, last.failed, last.in_flight), (150, 135, 15, 0));
    assert!(last.balances());
}
