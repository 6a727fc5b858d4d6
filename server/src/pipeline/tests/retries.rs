//! Retries: failed messages get more attempts after an exponential back-off, keep every failure
//! reason, and are acknowledged exactly once when their last attempt is over. Back-off runs on
//! paused time.

use super::*;
use crate::pipeline::testing::TestPipeline;
use crate::pipeline::{PREVIOUS_FAILURE, RetryPolicy};
use std::sync::Arc;
use tokio::time::Instant;

fn retrying(max_attempts: u32, backoff: Duration) -> PipelineConfig {
    let mut cfg = config(1, 10, vec![batcher("default", 10, Duration::from_millis(5))]);
    cfg.retry = Some(RetryPolicy {
        max_attempts,
        backoff,
        max_backoff: Duration::from_secs(7200),
        jitter: 0.0,
        max_pending: 100,
    });
    cfg
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_retried_after_a_growing_back_off_until_it_succeeds() {
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new().message({
        let attempts = attempts.clone();
        move |m| {
            attempts.lock().expect("lock").push((Instant::now(), m.attempt()));
            if m.attempt() < 3 {
                m.fail("flaky", format!("attempt {} failed", m.attempt()));
            }
        }
    });
    let events = Arc::new(Events::default());
    let mut cfg = retrying(5, Duration::from_millis(100));
    cfg.observers.push(events.clone());
    let t = TestPipeline::start(cfg, handler).expect("valid");
    let acked = t.test_message(1).await;
    assert!(acked.is_ok(), "{acked:?}");
    let attempts = attempts.lock().expect("lock").clone();
    assert_eq!(attempts.iter().map(|a| a.1).collect::<Vec<_>>(), [1, 2, 3]);
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(gaps[0] >= Duration::from_millis(100) && gaps[0] < Duration::from_millis(150), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(200) && gaps[1] < Duration::from_millis(250), "{gaps:?}");
    assert_eq!(events.pick(|e| matches!(e, Seen::MessagesRetried { .. }).then_some(())).len(), 2);
    assert_eq!(t.pipeline.stats().retried, 2);
}

#[tokio::test(start_paused = true)]
async fn exhausted_attempts_are_acknowledged_failed_once_with_every_reason() {
    let history = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new().message(|m| m.fail("down", format!("try {}", m.attempt()))).failed({
        let history = history.clone();
        move |ms| {
            for m in ms.iter() {
                let previous: Vec<String> = m.metadata.get_all(PREVIOUS_FAILURE).map(str::to_owned).collect();
                history.lock().expect("lock").push((m.attempt(), previous));
            }
        }
    });
    let t = TestPipeline::start(retrying(3, Duration::from_millis(10)), handler).expect("valid");
    let acked = t.test_message(1).await;
    assert_eq!(failure(&acked.status), Some(("down", "try 3")));
    assert_eq!(t.recorder.all().len(), 1, "acknowledged once, after the last attempt");
    let history = history.lock().expect("lock").clone();
    assert_eq!(history.len(), 3, "handle_failed ran after every failed attempt");
    assert_eq!(history[2], (3, vec!["down: try 1".to_owned(), "down: try 2".to_owned()]));
}

#[tokio::test(start_paused = true)]
async fn permanent_failures_are_not_retried() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = Script::new().message({
        let calls = calls.clone();
        move |m| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            m.fail_permanently("invalid", "cannot be fixed by trying again");
        }
    });
    let t = TestPipeline::start(retrying(5, Duration::from_millis(10)), handler).expect("valid");
    assert_eq!(kind(&t.test_message(1).await), "invalid");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_panic_is_retried_and_a_batch_failure_comes_back_through_the_processors() {
    let handler = Script::new()
        .message(|m| {
            if m.data == 1 && m.attempt() == 1 {
                panic!("sensor driver crashed");
            }
        })
        .batch(|batch, _| {
            for m in batch.iter_mut().filter(|m| m.data == 2 && m.attempt() == 1) {
                m.fail("sink unavailable", "503 from the sink");
            }
        });
    let t = TestPipeline::start(retrying(2, Duration::from_millis(10)), handler).expect("valid");
    let acks = t.test_batch(vec![1, 2, 3]).await;
    assert!(acks.iter().all(Acked::is_ok), "{acks:?}");
    assert_eq!(t.recorder.all().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_retry_queue_is_bounded_and_a_failure_past_it_is_final() {
    let handler = Script::new().message(|m| m.fail("down", "always"));
    let mut cfg = retrying(3, Duration::from_secs(1));
    if let Some(r) = cfg.retry.as_mut() {
        r.max_pending = 2;
    }
    let t = TestPipeline::start(cfg, handler).expect("valid");
    assert!(t.feed.push_messages(tagged(0..5)));
    eventually("three final failures", || t.recorder.all().len() == 3).await;
    assert_eq!(t.pipeline.stats().retry_pending, 2);
    all_acked(&t.recorder, 0..5).await;
    acked_once(&t.recorder, 0..5);
}

#[tokio::test(start_paused = true)]
async fn a_drain_gives_waiting_retries_their_attempt_at_once() {
    let handler = Script::new().message(|m| {
        if m.attempt() == 1 {
            m.fail("flaky", "first try");
        }
    });
    let t = TestPipeline::start(retrying(3, Duration::from_secs(3600)), handler).expect("valid");
    assert!(t.feed.push_messages(tagged(0..4)));
    eventually("all four wait for a retry", || t.pipeline.stats().retry_pending == 4).await;
    let started = Instant::now();
    t.pipeline.stop(WAIT).await.expect("drains without waiting an hour");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(acked_once(&t.recorder, 0..4).iter().all(Acked::is_ok));
}

#[tokio::test(start_paused = true)]
async fn a_failure_during_the_drain_is_final() {
    let handler = Script::new().message(|m| m.fail("down", "always"));
    let t = TestPipeline::start(retrying(5, Duration::from_secs(3600)), handler).expect("valid");
    assert!(t.feed.push_messages(tagged(0..3)));
    eventually("waiting for retries", || t.pipeline.stats().retry_pending == 3).await;
    t.pipeline.stop(WAIT).await.expect("drains");
    let acks = acked_once(&t.recorder, 0..3);
    assert!(acks.iter().all(|a| kind(a) == "down"), "one more attempt each, then final: {acks:?}");
}
