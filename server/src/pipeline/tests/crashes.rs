//! Crashes: a panic in a handler fails that message (or batch) and the stage goes on; a stage
//! task that is killed is restarted and its successor carries on with its state (a kill loses
//! and fails nothing); a panicking observer is isolated; a crash loop is slowed down.

use super::*;
use crate::pipeline::testing::TestPipeline;
use crate::pipeline::topology::BATCHES_QUEUED;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[tokio::test]
async fn a_panic_in_handle_message_fails_that_message_with_the_panic_message() {
    let handler = Script::new().message(|m| {
        assert_ne!(m.data, 13, "unlucky {}", m.data);
        m.data += 100;
    });
    let tp =
        TestPipeline::start(config(1, 10, vec![batcher("default", 10, Duration::from_millis(5))]), handler)
            .expect("valid");
    let acks = tp.test_batch(vec![12, 13, 14]).await;
    assert!(acks[0].is_ok() && acks[2].is_ok());
    assert_eq!((acks[0].data, acks[2].data), (112, 114));
    let (kind, reason) = failure(&acks[1].status).expect("13 fails");
    assert_eq!(kind, "panic");
    assert!(reason.starts_with("assertion `left != right` failed: unlucky 13"), "reason: {reason}");
    assert!(tp.test_message(15).await.is_ok(), "the processor goes on");
    assert_eq!(tp.pipeline.restarts(), 0, "a handler panic is not a stage crash");
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test]
async fn a_panic_in_handle_batch_fails_that_batch_only() {
    let handler =
        Script::new().message(|m| route(m, "default", format!("{}", m.data / 100))).batch(|batch, _| {
            if batch.iter().any(|m| m.data == 666) {
                panic!("batch of the beast");
            }
        });
    let tp = TestPipeline::start(config(2, 10, vec![batcher("default", 3, WAIT)]), handler).expect("valid");
    let acks = tp.test_batch(vec![1, 665, 2, 666, 3, 667]).await;
    for (a, d) in acks.iter().zip([1, 665, 2, 666, 3, 667]) {
        if d > 600 {
            assert_eq!(failure(&a.status), Some(("batch panic", "batch of the beast")), "message {d}");
        } else {
            assert!(a.is_ok(), "message {d} is in another batch: {a:?}");
        }
    }
    assert!(tp.test_batch(vec![4, 5, 6]).await.iter().all(|a| a.is_ok()), "the batch processor goes on");
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_every_stage_while_messages_flow_loses_nothing_and_processing_goes_on() {
    let handler = Script::new().message(|m| {
        if m.data % 11 == 0 {
            m.fail("eleven", "a multiple of eleven");
        }
        route(m, "default", format!("k{}", m.data % 4));
    });
    let batchers = vec![BatcherConfig { concurrency: 2, ..batcher("default", 10, Duration::from_millis(5)) }];
    let tp = TestPipeline::start(config(2, 5, batchers), handler).expect("valid");
    let stages = tp.pipeline.stages();
    assert!(stages.len() >= 4, "processors, a batcher and its batch processors: {stages:?}");

    let feed = tp.feed.clone();
    let pusher = tokio::spawn(async move {
        for c in 0..300 {
            assert!(feed.push_messages(tagged(c * 10..c * 10 + 10)));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    for (i, stage) in stages.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(10)).await;
        tp.pipeline.kill(*stage).unwrap_or_else(|e| panic!("kill {stage}: {e}"));
        eventually("the killed stage to be restarted", || tp.pipeline.restarts() == i as u64 + 1).await;
    }
    tokio::time::timeout(WAIT, pusher).await.expect("pushed").expect("pusher");
    all_acked(&tp.recorder, 0..3_000).await;

    // A kill loses nothing and fails nothing: the successor carries on with the state.
    for (d, a) in (0..3_000).zip(acked_once(&tp.recorder, 0..3_000)) {
        assert_eq!(kind(&a), if d % 11 == 0 { "eleven" } else { "ok" }, "message {d}");
    }
    assert_eq!(tp.pipeline.restarts(), stages.len() as u64);
    assert_eq!(tp.pipeline.stats().restarts, stages.len() as u64);

    let acks = tp.test_batch((1..=20).collect()).await;
    assert!(acks.iter().all(|a| a.is_ok() || kind(a) == "eleven"), "after the kills: {acks:?}");
    tp.pipeline.stop(WAIT).await.expect("drains");
}

/// A pipeline whose processor is blocked handing full batches (of one message) on, because
/// `handle_batch` holds batch 0, and is then killed: returns it with the gate and the events.
async fn kill_while_handing_on() -> (TestPipeline<u64>, Arc<Gate>, Arc<Events>) {
    let gate = Arc::new(Gate::default());
    let handler = Script::new().batch({
        let gate = gate.clone();
        move |batch, _| {
            if batch[0].data == 0 {
                gate.pass();
            }
        }
    });
    let events = Arc::new(Events::default());
    let tp = TestPipeline::start(events.observe(config(1, 10, vec![batcher("default", 1, WAIT)])), handler)
        .expect("valid");
    assert!(tp.feed.push_messages(tagged(0..30)));
    let flushed = || events.pick(|e| matches!(e, Seen::BatchFlushed { .. }).then_some(())).len();
    eventually("batch 0 to reach handle_batch", || gate.held() == 1).await;
    // Batch 0 in handle_batch, BATCHES_QUEUED more in the batch processor's inbox: then the
    // processor holds the next full batch and waits for room. More cannot be flushed while
    // the gate is shut.
    let blocked = 1 + BATCHES_QUEUED;
    eventually("the batch processor's inbox to fill up", || flushed() == blocked).await;
    tp.pipeline.kill(StageId::Processor(0)).expect("running");
    eventually("the processor to be restarted", || tp.pipeline.restarts() == 1).await;
    (tp, gate, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processor_killed_while_handing_batches_on_loses_and_fails_nothing() {
    let (tp, gate, events) = kill_while_handing_on().await;
    gate.open();
    tp.pipeline.stop(WAIT).await.expect("drains");
    for (d, a) in (0..30).zip(acked_once(&tp.recorder, 0..30)) {
        assert!(a.is_ok(), "message {d}: {a:?}");
    }
    let restarted = events.pick(|e| match e {
        Seen::StageRestarted { stage, reason, restarts } => Some((*stage, reason.clone(), *restarts)),
        _ => None,
    });
    assert_eq!(restarted, vec![(StageId::Processor(0), "killed".to_owned(), 1)]);
    for s in &tp.pipeline.stats().stages {
        assert_eq!(s.queue, 0, "{} still shows a queue once everything is acknowledged", s.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processor_killed_while_filing_into_two_batchers_loses_nothing() {
    // Batcher "a" is held up, so the processor blocks handing its batches on while batches
    // for "b" wait their turn; the kill must fail those, not drop them.
    let gate = Arc::new(Gate::default());
    let handler = Script::new()
        .message(|m| route(m, if m.data % 2 == 0 { "a" } else { "b" }, "default".into()))
        .batch({
            let gate = gate.clone();
            move |batch, info| {
                if info.batcher == "a" && batch[0].data == 0 {
                    gate.pass();
                }
            }
        });
    let events = Arc::new(Events::default());
    let batchers = vec![batcher("a", 1, WAIT), batcher("b", 1, WAIT)];
    let tp = TestPipeline::start(events.observe(config(1, 2, batchers)), handler).expect("valid");
    assert!(tp.feed.push_messages(tagged(0..60)));
    let filed = || events.pick(|e| matches!(e, Seen::BatcherStarted { .. }).then_some(())).len();
    eventually("batch 0 of \"a\" to reach handle_batch", || gate.held() == 1).await;
    // Each chunk (one even, one odd message) is filed into both batchers. "a" takes chunk 0's
    // batch into handle_batch and BATCHES_QUEUED more into its inbox; the chunk after those is
    // filed too, and its batch for "a" (then the one for "b") waits for room. No chunk more
    // can be filed while the gate is shut.
    let blocked = 2 * (1 + BATCHES_QUEUED + 1);
    eventually("the processor to block handing on", || filed() == blocked).await;

    tp.pipeline.kill(StageId::Processor(0)).expect("running");
    eventually("the processor to be restarted", || tp.pipeline.restarts() == 1).await;
    gate.open();
    tp.pipeline.stop(WAIT).await.expect("drains");
    for (d, a) in (0..60).zip(acked_once(&tp.recorder, 0..60)) {
        assert!(a.is_ok(), "message {d}: {a:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_stage_killed_again_and_again_comes_back_at_once_every_time() {
    let tp =
        TestPipeline::start(config(1, 10, vec![batcher("default", 10, WAIT)]), Script::new()).expect("valid");
    let stage = StageId::Batcher(0);
    let started = tokio::time::Instant::now();
    for kills in 1..=10 {
        tp.pipeline.kill(stage).unwrap_or_else(|e| panic!("kill {kills}: {e}"));
        eventually("the restart to be counted", || tp.pipeline.restarts() == kills).await;
    }
    // Kills are deliberate: no back-off (that is for crash loops, see `supervisor`'s tests).
    assert!(started.elapsed() < Duration::from_millis(50), "restarts were immediate");
    assert!(tp.test_batch((0..10).collect()).await.iter().all(|a| a.is_ok()), "it still works");
    tp.pipeline.stop(WAIT).await.expect("drains");
}

/// An observer that panics on every event.
struct PanickingObserver;

impl Observer for PanickingObserver {
    fn on_event(&self, event: &Event<'_>) {
        panic!("observer failed on {event:?}");
    }
}

#[tokio::test]
async fn a_panicking_observer_neither_stops_a_stage_nor_loses_a_message() {
    let mut cfg = config(2, 10, vec![batcher("default", 4, Duration::from_millis(5))]);
    cfg.observers.push(Arc::new(PanickingObserver));
    let tp = TestPipeline::start(cfg, Script::new()).expect("valid");
    let acks = tp.test_batch((0..30).collect()).await;
    assert!(acks.iter().all(|a| a.is_ok()), "{acks:?}");
    assert_eq!(tp.pipeline.restarts(), 0);
    tp.pipeline.stop(WAIT).await.expect("drains");
}

/// A recorder whose first call panics (before recording anything).
struct PanicsFirst(AtomicUsize, Arc<Recorder<u64>>);

impl crate::pipeline::Acknowledger<u64> for PanicsFirst {
    fn ack(&self, successful: &[Message<u64>], failed: &[Message<u64>]) {
        assert!(self.0.fetch_add(1, Ordering::SeqCst) > 0, "acknowledger failed");
        self.1.ack(successful, failed);
    }
}

#[tokio::test]
async fn a_panicking_acknowledger_neither_stops_a_processor_nor_loses_what_it_set_aside() {
    // max_demand 10, min_demand 5: the processor pulls 10 and handles 5, holding the other 5
    // aside; the acknowledger panics on the first 5 (isolated: logged, counted as told).
    let (producer, feed) = crate::pipeline::testing::TestProducer::new();
    let recorder = Arc::new(Recorder::default());
    let mut cfg = config(1, 10, vec![]);
    cfg.processors.min_demand = Some(5);
    let acknowledger = Arc::new(PanicsFirst(AtomicUsize::new(0), recorder.clone()));
    let pipeline = crate::pipeline::Pipeline::start(cfg, producer, Arc::new(Script::new()), acknowledger)
        .expect("valid");
    assert!(feed.push_messages(tagged(0..20)));
    pipeline.stop(WAIT).await.expect("drains");
    assert_eq!(pipeline.restarts(), 0, "the panic did not kill the processor");
    for (d, a) in (5..20).zip(acked_once(&recorder, 5..20)) {
        assert_eq!(kind(&a), "ok", "message {d}: {a:?}");
    }
}

#[tokio::test]
async fn a_stage_can_be_killed_as_soon_as_the_pipeline_has_started() {
    let tp = TestPipeline::start(config(1, 10, vec![]), Script::new()).expect("valid");
    tp.pipeline.kill(StageId::Processor(0)).expect("the stage exists and is running");
    eventually("the restart", || tp.pipeline.restarts() == 1).await;
    tp.pipeline.stop(WAIT).await.expect("drains");
}
