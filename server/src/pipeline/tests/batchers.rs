//! Batchers: named batchers with their own sizes, flushing by size, timeout and drain; batch
//! keys (one key per batch, one key's batches one after another); routing errors; and the
//! pipeline without batchers.

use super::*;
use crate::pipeline::testing::TestPipeline;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// (batcher, key, size given, messages in the batch, trigger) of every `handle_batch` call.
type Infos = Arc<Mutex<Vec<(&'static str, String, usize, usize, BatchTrigger)>>>;

/// A handler that records every batch's [`BatchInfo`], routing each message with `route_by`.
fn recording(route_by: impl Fn(&mut Message<u64>) + Send + Sync + 'static) -> (Script, Infos) {
    let infos: Infos = Arc::default();
    let script = Script::new().message(route_by).batch({
        let infos = infos.clone();
        move |batch, info| {
            let entry = (info.batcher, info.batch_key.to_owned(), info.size, batch.len(), info.trigger);
            infos.lock().expect("lock").push(entry);
        }
    });
    (script, infos)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_batchers_each_batch_at_their_own_size() {
    let (handler, infos) = recording(|m| {
        let name = if m.data % 2 == 0 { "three" } else { "five" };
        route(m, name, "default".into());
    });
    let batchers = vec![batcher("three", 3, WAIT), batcher("five", 5, WAIT)];
    let tp = TestPipeline::start(config(2, 4, batchers), handler).expect("valid");
    let acks = tp.test_batch((0..30).collect()).await;
    for (d, a) in (0u64..30).zip(&acks) {
        assert!(a.is_ok());
        assert_eq!(a.batcher, if d % 2 == 0 { "three" } else { "five" });
    }
    let mut infos = infos.lock().expect("lock").clone();
    infos.sort_by_key(|i| i.0);
    let size = BatchTrigger::Size;
    let mut expected = vec![("five", "default".to_owned(), 5, 5, size); 3];
    expected.extend(vec![("three", "default".to_owned(), 3, 3, size); 5]);
    assert_eq!(infos, expected);
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test(start_paused = true)]
async fn batch_info_says_why_each_batch_was_flushed_size_timeout_or_drain() {
    let (handler, infos) = recording(|m| route(m, "default", "k".into()));
    let batchers = vec![batcher("default", 4, Duration::from_secs(1))];
    let tp = TestPipeline::start(config(1, 10, batchers), handler).expect("valid");
    let pushed = tokio::time::Instant::now();
    assert!(tp.feed.push_messages(tagged(0..10)));

    tokio::time::sleep(Duration::from_millis(990)).await;
    assert_eq!(tp.recorder.all().len(), 8, "two full batches, the partial one waits");
    all_acked(&tp.recorder, 0..10).await;
    let waited = pushed.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_millis(1_010),
        "flushed after {waited:?}"
    );

    assert!(tp.feed.push_messages(tagged(10..13)));
    tp.pipeline.stop(WAIT).await.expect("drains");
    acked_once(&tp.recorder, 0..13);
    use BatchTrigger::{Drain, Size, Timeout};
    let k = || "k".to_owned();
    let expected = vec![
        ("default", k(), 4, 4, Size),
        ("default", k(), 4, 4, Size),
        ("default", k(), 2, 2, Timeout),
        ("default", k(), 3, 3, Drain),
    ];
    assert_eq!(*infos.lock().expect("lock"), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_only_ever_holds_messages_of_its_own_key() {
    let mixed = Arc::new(AtomicUsize::new(0));
    let handler = Script::new().message(|m| route(m, "default", format!("k{}", m.data % 3))).batch({
        let mixed = mixed.clone();
        move |batch, info| {
            let strays = batch.iter().filter(|m| m.batch_key != info.batch_key).count();
            mixed.fetch_add(strays, Ordering::SeqCst);
        }
    });
    let batchers = vec![batcher("default", 4, Duration::from_millis(5))];
    let tp = TestPipeline::start(config(2, 7, batchers), handler).expect("valid");
    let acks = tp.test_batch((0..300).collect()).await;
    for (d, a) in (0u64..300).zip(&acks) {
        assert_eq!(a.batch_key, format!("k{}", d % 3));
    }
    assert_eq!(mixed.load(Ordering::SeqCst), 0, "messages of another key in a batch");
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_keys_batches_run_one_after_another_on_one_batch_processor() {
    let running: Arc<HashMap<String, AtomicBool>> =
        Arc::new((0..5).map(|k| (format!("k{k}"), AtomicBool::new(false))).collect());
    let overlaps = Arc::new(AtomicUsize::new(0));
    let handler = Script::new().message(|m| route(m, "default", format!("k{}", m.data % 5))).batch({
        let (running, overlaps) = (running.clone(), overlaps.clone());
        move |_, info| {
            let flag = &running[info.batch_key];
            if flag.swap(true, Ordering::SeqCst) {
                overlaps.fetch_add(1, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(2));
            flag.store(false, Ordering::SeqCst);
        }
    });
    let events = Arc::new(Events::default());
    let batchers = vec![BatcherConfig { concurrency: 4, ..batcher("default", 2, Duration::from_millis(5)) }];
    let tp = TestPipeline::start(events.observe(config(2, 10, batchers)), handler).expect("valid");
    let acks = tp.test_batch((0..200).collect()).await;
    assert!(acks.iter().all(|a| a.is_ok()));
    assert_eq!(overlaps.load(Ordering::SeqCst), 0, "two batches of one key ran at once");

    let mut processors_of: HashMap<String, HashSet<usize>> = HashMap::new();
    for (key, p) in events.pick(|e| match e {
        Seen::BatchStarted { processor, key, .. } => Some((key.clone(), *processor)),
        _ => None,
    }) {
        processors_of.entry(key).or_default().insert(p);
    }
    assert_eq!(processors_of.len(), 5);
    assert!(
        processors_of.values().all(|ps| ps.len() == 1),
        "a key moved between processors: {processors_of:?}"
    );
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_of_the_default_key_spread_over_every_batch_processor() {
    let handler = Script::new().batch(|_, _| std::thread::sleep(Duration::from_millis(1)));
    let events = Arc::new(Events::default());
    let batchers = vec![BatcherConfig { concurrency: 4, ..batcher("default", 5, Duration::from_millis(5)) }];
    let tp = TestPipeline::start(events.observe(config(2, 10, batchers)), handler).expect("valid");
    tp.test_batch((0..100).collect()).await;
    let used: HashSet<usize> = events
        .pick(|e| match e {
            Seen::BatchStarted { processor, key, .. } if key == "default" => Some(*processor),
            _ => None,
        })
        .into_iter()
        .collect();
    assert_eq!(used, HashSet::from([0, 1, 2, 3]));
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test]
async fn a_message_routed_to_an_unknown_batcher_fails() {
    let handler = Script::new().message(|m| {
        if m.data % 2 == 1 {
            route(m, "nowhere", "default".into());
        }
    });
    let batchers = vec![batcher("default", 10, Duration::from_millis(5))];
    let tp = TestPipeline::start(config(1, 10, batchers), handler).expect("valid");
    let acks = tp.test_batch(vec![0, 1, 2, 3]).await;
    assert!(acks[0].is_ok() && acks[2].is_ok());
    for a in [&acks[1], &acks[3]] {
        let (kind, reason) = failure(&a.status).expect("failed");
        assert_eq!(kind, "unknown batcher");
        assert!(reason.contains("nowhere"), "the reason names the batcher: {reason}");
    }
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test]
async fn without_batchers_messages_are_acked_right_after_handle_message() {
    let batches = Arc::new(AtomicUsize::new(0));
    let handler = Script::new().message(|m| route(m, "anywhere", "k".into())).batch({
        let batches = batches.clone();
        move |_, _| {
            batches.fetch_add(1, Ordering::SeqCst);
        }
    });
    let events = Arc::new(Events::default());
    let tp = TestPipeline::start(events.observe(config(2, 10, vec![])), handler).expect("valid");
    let acks = tp.test_batch((0..40).collect()).await;
    assert!(acks.iter().all(|a| a.is_ok()), "no batcher, so no routing error: {acks:?}");
    assert_eq!(batches.load(Ordering::SeqCst), 0, "handle_batch never runs");
    let stages = events.pick(|e| match e {
        Seen::MessagesAcked { stage, .. } => Some(*stage),
        _ => None,
    });
    assert!(stages.iter().all(|s| matches!(s, StageId::Processor(_))), "acked by {stages:?}");
    tp.pipeline.stop(WAIT).await.expect("drains");
}
