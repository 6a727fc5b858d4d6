//! Telemetry: observers see every event of the contract with counts that add up; the built-in
//! metrics (`stats`, `latency_totals`) and `topology` show what went through each stage.

use super::*;
use crate::pipeline::testing::TestPipeline;
use crate::pipeline::{BatcherNode, ProcessorsNode};
use std::sync::Arc;

/// Fails multiples of 10 in `handle_message` and those ending in 5 in `handle_batch`, with
/// keys `k0`..`k2`; one batcher of 8 with two batch processors.
fn failing_some(events: &Arc<Events>) -> TestPipeline<u64> {
    let handler = Script::new()
        .message(|m| {
            if m.data % 10 == 0 {
                m.fail("ten", "a multiple of ten");
            }
            route(m, "default", format!("k{}", m.data % 3));
        })
        .batch(|batch, _| {
            batch.iter_mut().filter(|m| m.data % 10 == 5).for_each(|m| m.fail("five", "ends in 5"))
        });
    let batchers = vec![BatcherConfig { concurrency: 2, ..batcher("default", 8, WAIT) }];
    TestPipeline::start(events.observe(config(2, 6, batchers)), handler).expect("valid")
}

/// Sums `f` over the events it picks.
fn sum(events: &Events, f: impl FnMut(&Seen) -> Option<usize>) -> usize {
    events.pick(f).iter().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_sees_every_stage_at_work_with_counts_that_add_up() {
    let events = Arc::new(Events::default());
    let tp = failing_some(&events);
    assert!(tp.feed.push_messages(tagged(0..100)));
    tp.pipeline.stop(WAIT).await.expect("drains");
    let all = events.all();

    let Some(Seen::TopologyStarted(topology)) = all.first() else { panic!("first event: {:?}", all.first()) };
    assert_eq!(topology.processors.concurrency, 2);
    assert_eq!(sum(&events, |e| matches!(e, Seen::DrainStarted).then_some(1)), 1);
    assert_eq!(all.last(), Some(&Seen::DrainFinished { abandoned: 0 }));

    use Seen as S;
    assert_eq!(
        sum(&events, |e| if let S::ProducerDispatched { messages, .. } = e { Some(*messages) } else { None }),
        100
    );
    assert_eq!(
        sum(&events, |e| if let S::ProcessorStarted { messages, .. } = e { Some(*messages) } else { None }),
        100
    );
    let stopped = events.pick(|e| match e {
        S::ProcessorStopped { successful, failed, latency_count, .. } => {
            Some((*successful, *failed, *latency_count))
        }
        _ => None,
    });
    let (ok, bad, latency) = stopped.iter().fold((0, 0, 0), |t, s| (t.0 + s.0, t.1 + s.1, t.2 + s.2));
    assert_eq!((ok, bad, latency), (90, 10, 100), "processors: successful, failed, latency samples");
    assert_eq!(
        sum(&events, |e| if let S::BatcherStarted { messages, .. } = e { Some(*messages) } else { None }),
        90
    );
    let batcher_runs = (
        events.pick(|e| matches!(e, S::BatcherStarted { .. }).then_some(())).len(),
        events.pick(|e| matches!(e, S::BatcherStopped { .. }).then_some(())).len(),
    );
    assert_eq!(batcher_runs.0, batcher_runs.1, "every BatcherStarted has its BatcherStopped");
    assert_eq!(sum(&events, |e| if let S::BatchFlushed { size, .. } = e { Some(*size) } else { None }), 90);
    assert_eq!(sum(&events, |e| if let S::BatchStarted { size, .. } = e { Some(*size) } else { None }), 90);
    assert_eq!(
        sum(&events, |e| if let S::BatchStopped { successful, .. } = e { Some(*successful) } else { None }),
        80
    );
    assert_eq!(
        sum(&events, |e| if let S::BatchStopped { failed, .. } = e { Some(*failed) } else { None }),
        10
    );
    let drains = events.pick(|e| match e {
        S::BatchFlushed { trigger: BatchTrigger::Drain, .. } => Some(()),
        _ => None,
    });
    assert_eq!(drains.len(), 3, "one partial batch per key flushed at the drain");

    let acked = events.pick(|e| match e {
        S::MessagesAcked { successful, failed, latency_count, .. } => {
            Some((*successful, *failed, *latency_count))
        }
        _ => None,
    });
    let (ok, bad, latency) = acked.iter().fold((0, 0, 0), |t, s| (t.0 + s.0, t.1 + s.1, t.2 + s.2));
    assert_eq!((ok, bad), (80, 20), "acked: successful, failed");
    assert_eq!(latency, 100, "one publish→ack latency sample per message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_and_restarts_are_reported_with_their_reasons() {
    let handler = Script::new()
        .message(|m| assert!(m.data != 1, "message one"))
        .batch(|batch, _| assert!(!batch.iter().any(|m| m.data == 2), "batch with two"));
    let events = Arc::new(Events::default());
    let tp = TestPipeline::start(events.observe(config(1, 10, vec![batcher("default", 2, WAIT)])), handler)
        .expect("valid");
    let acks = tp.test_batch(vec![1, 2, 3]).await;
    assert_eq!(acks.iter().map(kind).collect::<Vec<_>>(), vec!["panic", "batch panic", "batch panic"]);
    tp.pipeline.kill(StageId::Batcher(0)).expect("running");
    eventually("the restart", || tp.pipeline.restarts() == 1).await;
    tp.pipeline.stop(WAIT).await.expect("drains");

    let crashes = events.pick(|e| match e {
        Seen::MessageCrashed { processor, reason } => Some((*processor, reason.clone())),
        _ => None,
    });
    assert_eq!(crashes, vec![(0, "message one".to_owned())]);
    let batch_crashes = events.pick(|e| match e {
        Seen::BatchCrashed { size, reason, .. } => Some((*size, reason.clone())),
        _ => None,
    });
    assert_eq!(batch_crashes, vec![(2, "batch with two".to_owned())]);
    let restarts = events.pick(|e| match e {
        Seen::StageRestarted { stage, reason, restarts } => Some((*stage, reason.clone(), *restarts)),
        _ => None,
    });
    assert_eq!(restarts, vec![(StageId::Batcher(0), "killed".to_owned(), 1)]);
    let stats = tp.pipeline.stats();
    assert_eq!(stats.restarts, 1);
    let batcher = stats.stages.iter().find(|s| s.id == StageId::Batcher(0)).expect("a batcher");
    assert_eq!(batcher.restarts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_what_went_through_each_stage_and_latency_percentiles() {
    let events = Arc::new(Events::default());
    let tp = failing_some(&events);
    assert!(tp.feed.push_messages(tagged(0..100)));
    tp.pipeline.stop(WAIT).await.expect("drains");
    acked_once(&tp.recorder, 0..100);
    let stats = tp.pipeline.stats();

    let ids: Vec<StageId> = stats.stages.iter().map(|s| s.id).collect();
    let expected = [
        StageId::Producer,
        StageId::Processor(0),
        StageId::Processor(1),
        StageId::Batcher(0),
        StageId::BatchProcessor { batcher: 0, index: 0 },
        StageId::BatchProcessor { batcher: 0, index: 1 },
    ];
    assert_eq!(ids, expected);
    let totals = |of: fn(&StageId) -> bool| {
        let of_role = stats.stages.iter().filter(|s| of(&s.id));
        of_role.fold((0, 0, 0), |t, s| (t.0 + s.received, t.1 + s.successful, t.2 + s.failed))
    };
    assert_eq!(
        totals(|id| *id == StageId::Producer),
        (100, 100, 0),
        "producer: received, successful, failed"
    );
    assert_eq!(totals(|id| matches!(id, StageId::Processor(_))), (100, 90, 10), "processors");
    assert_eq!(totals(|id| matches!(id, StageId::Batcher(_))), (90, 90, 0), "batcher");
    assert_eq!(totals(|id| matches!(id, StageId::BatchProcessor { .. })), (90, 80, 10), "batch processors");
    for s in &stats.stages[1..] {
        assert_eq!(s.queue, 0, "{} still has a queue after the drain", s.id);
    }
    assert_eq!(stats.processed_latency.count, 100);
    assert_eq!(stats.ack_latency.count, 100);
    assert!(stats.ack_latency.p50_us > 0.0 && stats.ack_latency.p50_us <= stats.ack_latency.max_us);
    let (processed, acked) = tp.pipeline.latency_totals();
    assert_eq!((processed.count, acked.count), (100, 100));
}

#[tokio::test]
async fn the_topology_lists_processors_batchers_their_concurrency_and_the_keys_seen() {
    let handler = Script::new().message(|m| match m.data % 3 {
        0 => route(m, "a", "x".into()),
        1 => route(m, "a", "y".into()),
        _ => route(m, "b", "z".into()),
    });
    let mut cfg = config(
        3,
        8,
        vec![
            BatcherConfig { concurrency: 2, ..batcher("a", 5, Duration::from_millis(20)) },
            batcher("b", 7, Duration::from_millis(30)),
        ],
    );
    cfg.processors.min_demand = Some(2);
    let tp = TestPipeline::start(cfg, handler).expect("valid");
    tp.test_batch((0..30).collect()).await;

    let topology = tp.pipeline.topology();
    assert_eq!(topology.producer, "test producer");
    assert_eq!(
        topology.processors,
        ProcessorsNode {
            concurrency: 3,
            max_demand: 8,
            min_demand: 2,
            max_concurrency: 16,
            partitioned: false
        }
    );
    let node = |name: &str, batch_size, batch_timeout_ms, concurrency, keys: &[&str]| BatcherNode {
        name: name.to_owned(),
        batch_size,
        batch_timeout_ms,
        concurrency,
        keys: keys.iter().map(|k| (*k).to_owned()).collect(),
    };
    let mut batchers = topology.batchers.clone();
    batchers.iter_mut().for_each(|b| b.keys.sort());
    assert_eq!(batchers, vec![node("a", 5, 20, 2, &["x", "y"]), node("b", 7, 30, 1, &["z"])]);
    assert_eq!(tp.pipeline.stats().topology, topology);

    let mut stages = tp.pipeline.stages();
    stages.retain(|s| *s != StageId::Producer);
    let expected = vec![
        StageId::Processor(0),
        StageId::Processor(1),
        StageId::Processor(2),
        StageId::Batcher(0),
        StageId::Batcher(1),
        StageId::BatchProcessor { batcher: 0, index: 0 },
        StageId::BatchProcessor { batcher: 0, index: 1 },
        StageId::BatchProcessor { batcher: 1, index: 0 },
    ];
    assert_eq!(stages, expected);
    tp.pipeline.stop(WAIT).await.expect("drains");
}
