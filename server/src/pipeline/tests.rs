//! Engine behaviour, grouped as Broadway's own suite is: acknowledgement, failures and crashes,
//! batching, back-pressure, shutdown, configuration.

use super::*;
use crate::pubsub::{Overflow, PubSub};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Fails multiples of 10, panics on 13, panics in the batch handler if a batch holds 666;
/// optionally sleeps per message to be slow.
#[derive(Default)]
struct TestHandler {
    batches: Mutex<Vec<usize>>,
    slow: Option<Duration>,
}

impl Handler for TestHandler {
    type Data = u64;

    fn handle_message(&self, m: &mut Message<u64>) {
        if let Some(d) = self.slow {
            std::thread::sleep(d);
        }
        if m.data == 13 {
            panic!("unlucky {}", m.data);
        }
        if m.data.is_multiple_of(10) {
            m.fail("multiple of ten", format!("{} is a multiple of ten", m.data));
        }
        m.data += 1_000_000; // the transform: visible to the batcher
    }

    fn handle_batch(&self, batch: &mut [Message<u64>]) {
        self.batches.lock().expect("lock").push(batch.len());
        if batch.iter().any(|m| m.data == 1_000_666) {
            panic!("batch of the beast");
        }
    }
}

/// Records every acknowledged message id and failure.
#[derive(Default)]
struct Recorder {
    ok: Mutex<Vec<u64>>,
    failed: Mutex<Vec<(u64, Failure)>>,
}

impl Acknowledger<u64> for Recorder {
    fn ack(&self, successful: &[Message<u64>], failed: &[Message<u64>]) {
        self.ok.lock().expect("lock").extend(successful.iter().map(|m| m.data % 1_000_000));
        let mut f = self.failed.lock().expect("lock");
        for m in failed {
            if let Status::Failed(why) = &m.status {
                f.push((m.data % 1_000_000, why.clone()));
            }
        }
    }
}

struct Harness {
    pubsub: PubSub<u64>,
    pipeline: Pipeline,
    handler: Arc<TestHandler>,
    acks: Arc<Recorder>,
    lost: Arc<AtomicU64>,
}

fn start(config: PipelineConfig, handler: TestHandler) -> Harness {
    let pubsub = PubSub::new();
    let handler = Arc::new(handler);
    let acks = Arc::new(Recorder::default());
    let lost = Arc::new(AtomicU64::new(0));
    let pipeline = Pipeline::start(
        &config,
        &pubsub,
        handler.clone(),
        acks.clone(),
        PipelineHooks { lost: lost.clone(), on_batch: Arc::new(|_| {}) },
    )
    .expect("valid config");
    Harness { pubsub, pipeline, handler, acks, lost }
}

impl Harness {
    async fn finish(&self) {
        self.pubsub.close();
        self.pipeline.drained(Duration::from_secs(10)).await.expect("drains");
    }

    fn acked_ids(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self.acks.ok.lock().expect("lock").clone();
        all.extend(self.acks.failed.lock().expect("lock").iter().map(|(id, _)| *id));
        all.sort_unstable();
        all
    }
}

// --- acknowledgement ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_acked_exactly_once() {
    let h =
        start(PipelineConfig { processors: 4, max_demand: 7, ..Default::default() }, TestHandler::default());
    for chunk in (1..=20_000u64).collect::<Vec<_>>().chunks(333) {
        h.pubsub.publish("events", chunk.to_vec()).await.expect("open");
    }
    h.finish().await;
    assert_eq!(h.acked_ids(), (1..=20_000).collect::<Vec<_>>());
    assert_eq!(h.lost.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn failed_messages_carry_their_reason_and_skip_the_batcher() {
    let h = start(PipelineConfig::default(), TestHandler::default());
    h.pubsub.publish("events", vec![1, 10, 2, 20]).await.expect("open");
    h.finish().await;
    let failed = h.acks.failed.lock().expect("lock").clone();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|(_, f)| f.kind == "multiple of ten"));
    assert!(failed.iter().any(|(id, f)| *id == 10 && f.reason == "10 is a multiple of ten"));
    assert_eq!(h.handler.batches.lock().expect("lock").iter().sum::<usize>(), 2);
}

// --- crashes ---

#[tokio::test]
async fn a_panic_in_handle_message_fails_that_message_and_processing_goes_on() {
    let h = start(PipelineConfig { processors: 1, ..Default::default() }, TestHandler::default());
    h.pubsub.publish("events", vec![12, 13, 14]).await.expect("open");
    h.pubsub.publish("events", vec![15]).await.expect("open");
    h.finish().await;
    let failed = h.acks.failed.lock().expect("lock").clone();
    assert_eq!(failed, vec![(13, Failure { kind: "panic", reason: "unlucky 13".into() })]);
    let mut ok = h.acks.ok.lock().expect("lock").clone();
    ok.sort_unstable();
    assert_eq!(ok, vec![12, 14, 15]);
}

#[tokio::test]
async fn a_panic_in_handle_batch_fails_the_batch() {
    let h =
        start(PipelineConfig { processors: 1, batch_size: 3, ..Default::default() }, TestHandler::default());
    h.pubsub.publish("events", vec![665, 666, 667, 1, 2, 3]).await.expect("open");
    h.finish().await;
    let failed = h.acks.failed.lock().expect("lock").clone();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|(_, f)| f.kind == "batch panic" && f.reason == "batch of the beast"));
    assert_eq!(h.acks.ok.lock().expect("lock").len(), 3);
}

// --- batching ---

#[tokio::test]
async fn batches_flush_at_batch_size() {
    let h = start(
        PipelineConfig { processors: 1, batch_size: 100, ..Default::default() },
        TestHandler::default(),
    );
    h.pubsub.publish("events", (1..=250).map(|i| i * 10 + 1).collect()).await.expect("open");
    h.finish().await;
    assert_eq!(*h.handler.batches.lock().expect("lock"), vec![100, 100, 50]);
}

#[tokio::test(start_paused = true)]
async fn a_partial_batch_flushes_after_the_timeout() {
    let h = start(
        PipelineConfig { batch_size: 100, batch_timeout: Duration::from_millis(50), ..Default::default() },
        TestHandler::default(),
    );
    h.pubsub.publish("events", vec![1, 2, 3]).await.expect("open");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(h.acks.ok.lock().expect("lock").is_empty(), "not before the timeout");
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(h.acks.ok.lock().expect("lock").len(), 3);
    assert_eq!(*h.handler.batches.lock().expect("lock"), vec![3]);
    h.finish().await;
}

// --- back-pressure ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_processor_holds_the_publisher_back() {
    let h = start(
        PipelineConfig { processors: 1, max_demand: 1, buffer: 4, ..Default::default() },
        TestHandler { slow: Some(Duration::from_millis(20)), ..Default::default() },
    );
    let published = Arc::new(AtomicUsize::new(0));
    let publisher = tokio::spawn({
        let (ps, published) = (h.pubsub.clone(), published.clone());
        async move {
            for i in 1..=40u64 {
                ps.publish("events", vec![i * 10 + 1]).await.expect("open");
                published.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // ~5 handled in 100 ms, + 4 buffered + 1 in the producer + 1 in the processor: far from 40.
    let so_far = published.load(Ordering::Relaxed);
    assert!(so_far < 20, "publisher ran ahead: {so_far} of 40 published");
    publisher.await.expect("publisher");
    h.finish().await;
    assert_eq!(h.acked_ids().len(), 40);
}

#[tokio::test]
async fn drop_newest_overflow_counts_losses_instead_of_blocking() {
    let h = start(
        PipelineConfig { overflow: Overflow::DropNewest, buffer: 10, ..Default::default() },
        TestHandler::default(),
    );
    let report = h.pubsub.publish("events", (1..=25).collect()).await.expect("open");
    assert_eq!(report.dropped, 15);
    h.finish().await;
    assert_eq!(h.lost.load(Ordering::Relaxed), 15);
    assert_eq!(h.acked_ids().len() as u64 + h.lost.load(Ordering::Relaxed), 25);
}

// --- shutdown ---

#[tokio::test]
async fn closing_the_topic_drains_buffered_messages_then_stops() {
    let h = start(PipelineConfig::default(), TestHandler::default());
    h.pubsub.publish("events", (1..=1000).collect()).await.expect("open");
    h.finish().await;
    assert!(h.pipeline.is_finished());
    assert_eq!(h.acked_ids().len(), 1000);
}

#[tokio::test(start_paused = true)]
async fn drain_gives_up_after_its_timeout() {
    let h = start(PipelineConfig::default(), TestHandler::default());
    // The topic stays open, so the pipeline never finishes.
    let err = h.pipeline.drained(Duration::from_secs(1)).await.expect_err("still running");
    assert_eq!(err, PipelineError::DrainTimeout(Duration::from_secs(1)));
    h.finish().await;
}

// --- configuration ---

#[test]
fn invalid_configs_are_refused() {
    let pubsub = PubSub::<u64>::new();
    for bad in [
        PipelineConfig { processors: 0, ..Default::default() },
        PipelineConfig { max_demand: 0, ..Default::default() },
        PipelineConfig { batch_size: 0, ..Default::default() },
        PipelineConfig { buffer: 0, ..Default::default() },
        PipelineConfig { batch_timeout: Duration::ZERO, ..Default::default() },
    ] {
        let r = Pipeline::start(
            &bad,
            &pubsub,
            Arc::new(TestHandler::default()),
            Arc::new(Recorder::default()),
            PipelineHooks { lost: Arc::default(), on_batch: Arc::new(|_| {}) },
        );
        assert!(matches!(r, Err(PipelineError::InvalidConfig(_))));
    }
    assert_eq!(pubsub.subscriber_count("events"), 0, "a refused pipeline does not subscribe");
}
