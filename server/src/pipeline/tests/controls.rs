//! Run-time controls: processor concurrency up and down, pause / resume and the rate limit,
//! each changed while messages flow, without losing or repeating one.

use super::*;
use crate::pipeline::testing::TestPipeline;
use crate::pipeline::{Acknowledger, GenerateProducer, Pipeline, PipelineError, RateLimit};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// Counts the acknowledgements of every message id (the data): exactly-once checks without a
/// map of a million strings.
struct Tally {
    seen: Vec<AtomicU8>,
    failed: AtomicU64,
    total: AtomicU64,
}

impl Tally {
    fn new(n: usize) -> Self {
        Self {
            seen: (0..n).map(|_| AtomicU8::new(0)).collect(),
            failed: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }
}

impl Acknowledger<u64> for Tally {
    fn ack(&self, successful: &[Message<u64>], failed: &[Message<u64>]) {
        for m in successful.iter().chain(failed) {
            self.seen[m.data as usize].fetch_add(1, Ordering::Relaxed);
        }
        self.failed.fetch_add(failed.len() as u64, Ordering::Relaxed);
        self.total.fetch_add((successful.len() + failed.len()) as u64, Ordering::Release);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_concurrency_and_rate_while_a_million_messages_flow_acks_each_exactly_once() {
    const N: usize = 1_000_000;
    let mut next = 0u64;
    let producer = GenerateProducer::new("ids", N as u64, move || {
        next += 1;
        next - 1
    });
    // Every hundredth message fails validation: failures are acknowledged exactly once too.
    let handler = Script::new().message(|m| {
        if m.data % 100 == 0 {
            m.fail("invalid", "every hundredth");
        }
    });
    let tally = Arc::new(Tally::new(N));
    let pipeline = Pipeline::start(
        config(2, 10, vec![batcher("default", 100, Duration::from_millis(5))]),
        producer,
        Arc::new(handler),
        tally.clone(),
    )
    .expect("valid");

    let shapes = [4, 1, 8, 2, 16, 3];
    let limits = [
        Some(RateLimit { allowed_messages: 20_000, interval: Duration::from_millis(10) }),
        None,
        Some(RateLimit { allowed_messages: 500, interval: Duration::from_millis(1) }),
        None,
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut changes = 0usize;
    while !pipeline.is_finished() {
        assert!(tokio::time::Instant::now() < deadline, "1M messages did not finish within 120 s");
        let concurrency = shapes[changes % shapes.len()];
        // The producer may finish between the check and the change: then nothing is running.
        if pipeline.set_concurrency(concurrency).is_ok() {
            assert_eq!(pipeline.concurrency(), concurrency);
        }
        pipeline.update_rate_limit(limits[changes % limits.len()]).expect("valid limit");
        changes += 1;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    pipeline.finished().await;
    assert!(changes >= 10, "only {changes} changes were made while messages flowed");
    let counts: Vec<u8> = tally.seen.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let never = counts.iter().filter(|c| **c == 0).count();
    let twice = counts.iter().filter(|c| **c > 1).count();
    assert_eq!((never, twice), (0, 0), "{never} never acknowledged, {twice} more than once");
    assert_eq!(tally.failed.load(Ordering::Relaxed), (N / 100) as u64);
    assert_eq!(pipeline.stats().restarts, 0, "no change restarts a stage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raised_concurrency_puts_the_new_processors_to_work() {
    let events = Arc::new(Events::default());
    let mut cfg = config(1, 1, vec![]);
    cfg.observers.push(events.clone());
    let handler = Script::new().message(|_| std::thread::sleep(Duration::from_micros(200)));
    let t = TestPipeline::start(cfg, handler).expect("valid");
    assert_eq!(t.pipeline.set_concurrency(4), Ok(1));
    assert_eq!(t.pipeline.stats().topology.processors.concurrency, 4);
    let acks = t.test_batch((0..400).collect()).await;
    assert!(acks.iter().all(Acked::is_ok));
    let mut used: Vec<usize> = events.pick(|e| match e {
        Seen::ProducerDispatched { processor, .. } => Some(*processor),
        _ => None,
    });
    used.sort_unstable();
    used.dedup();
    assert_eq!(used, [0, 1, 2, 3], "every processor pulled work");
    assert!(events.pick(|e| (*e == Seen::ConcurrencyChanged { from: 1, to: 4 }).then_some(())).len() == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowered_concurrency_lets_a_processor_finish_what_it_holds_then_leave() {
    let gate = Arc::new(Gate::default());
    let handler = Script::new().message({
        let gate = gate.clone();
        move |_| gate.pass()
    });
    let t = TestPipeline::start(config(2, 5, vec![]), handler).expect("valid");
    assert!(t.feed.push_messages(tagged(0..10)));
    eventually("both processors hold messages", || gate.held() == 2).await;
    assert_eq!(t.pipeline.set_concurrency(1), Ok(2));
    assert!(t.pipeline.stages().contains(&StageId::Processor(1)), "it is still finishing");
    gate.open();
    all_acked(&t.recorder, 0..10).await;
    assert!(acked_once(&t.recorder, 0..10).iter().all(Acked::is_ok), "nothing held was failed");
    eventually("processor 1 has left", || !t.pipeline.stages().contains(&StageId::Processor(1))).await;
    let ids: Vec<StageId> = t.pipeline.stats().stages.into_iter().map(|s| s.id).collect();
    assert!(!ids.contains(&StageId::Processor(1)), "{ids:?}");
    // The pipeline goes on with one processor, and can grow again on the same slot.
    assert_eq!(t.test_message(7).await.data, 7);
    assert_eq!(t.pipeline.set_concurrency(2), Ok(1));
    assert!(t.pipeline.stages().contains(&StageId::Processor(1)));
    assert_eq!(t.test_batch((20..40).collect()).await.len(), 20);
}

#[tokio::test]
async fn concurrency_out_of_range_or_during_a_drain_is_refused() {
    let t = TestPipeline::<u64>::start(config(2, 10, vec![]), Script::new()).expect("valid");
    assert!(matches!(t.pipeline.set_concurrency(0), Err(PipelineError::InvalidControl(_))));
    let too_many = t.pipeline.set_concurrency(17).expect_err("max is 16");
    assert!(too_many.to_string().contains("1..=16"), "{too_many}");
    assert_eq!(t.pipeline.concurrency(), 2);
    t.pipeline.stop(WAIT).await.expect("drains");
    assert_eq!(t.pipeline.set_concurrency(3), Err(PipelineError::Draining));
    assert_eq!(t.pipeline.pause(), Err(PipelineError::Draining));
}

#[tokio::test(start_paused = true)]
async fn pause_holds_intake_and_resume_lets_it_flow() {
    let t = TestPipeline::start(config(2, 10, vec![]), Script::new()).expect("valid");
    t.pipeline.pause().expect("running");
    assert!(t.pipeline.is_paused() && t.pipeline.stats().controls.paused);
    assert!(t.feed.push_messages(tagged(0..20)));
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(t.recorder.all().is_empty(), "nothing is processed while paused");
    t.pipeline.resume().expect("running");
    all_acked(&t.recorder, 0..20).await;
    acked_once(&t.recorder, 0..20);
}

#[tokio::test(start_paused = true)]
async fn a_drain_finishes_a_paused_pipeline() {
    let t = TestPipeline::start(config(1, 10, vec![]), Script::new()).expect("valid");
    t.pipeline.pause().expect("running");
    assert!(t.feed.push_messages(tagged(0..5)));
    t.pipeline.stop(WAIT).await.expect("a paused pipeline still drains what it holds");
    assert!(acked_once(&t.recorder, 0..5).iter().all(Acked::is_ok));
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_spaces_intake_out_and_can_be_changed_or_lifted() {
    let mut cfg = config(2, 10, vec![]);
    let limit = RateLimit { allowed_messages: 10, interval: Duration::from_secs(1) };
    cfg.rate_limit = Some(limit);
    let t = TestPipeline::start(cfg, Script::new()).expect("valid");
    assert_eq!(t.pipeline.rate_limit(), Some(limit));
    let start = tokio::time::Instant::now();
    assert!(t.feed.push_messages(tagged(0..35)));
    let acked = || t.recorder.all().len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(acked(), 10, "one window's worth");
    tokio::time::sleep_until(start + Duration::from_millis(1_500)).await;
    assert_eq!(acked(), 20);
    let faster = RateLimit { allowed_messages: 2, interval: Duration::from_millis(100) };
    t.pipeline.update_rate_limit(Some(faster)).expect("valid");
    assert_eq!(t.pipeline.stats().controls.rate_limit.map(|r| r.interval), Some(Duration::from_millis(100)));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(acked(), 26, "2 per 100 ms from the change on: three windows began");
    t.pipeline.update_rate_limit(None).expect("lifting is always valid");
    all_acked(&t.recorder, 0..35).await;
    assert!(start.elapsed() < Duration::from_secs(2), "the rest flowed at once");
    let bad = RateLimit { allowed_messages: 0, interval: Duration::from_secs(1) };
    assert!(matches!(t.pipeline.update_rate_limit(Some(bad)), Err(PipelineError::InvalidControl(_))));
}

#[tokio::test]
async fn restarts_are_kept_when_a_restarted_processor_stops_running() {
    let t = TestPipeline::start(config(3, 10, vec![]), Script::new()).expect("valid");
    t.pipeline.kill(StageId::Processor(2)).expect("running");
    eventually("the killed processor restarted", || t.pipeline.stats().restarts == 1).await;
    assert_eq!(t.pipeline.set_concurrency(1), Ok(3));
    eventually("processor 2 has left", || !t.pipeline.stages().contains(&StageId::Processor(2))).await;
    assert_eq!(t.pipeline.stats().restarts, 1, "the total never goes back when a processor stops");
    t.pipeline.stop(WAIT).await.expect("drains");
}
