//! Acknowledgement: every message is acknowledged exactly once; failed ones only after
//! `handle_failed` has seen them (in processors and in batch processors alike); and
//! `ack_immediately` acknowledges right after `handle_message`, never again.

use super::*;
use crate::pipeline::testing::{TestPipeline, TestProducer};
use crate::pipeline::{Acknowledger, Pipeline};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_acked_exactly_once_across_thousands_with_failures_mixed_in() {
    const N: u64 = 6_000;
    let handler = Script::new()
        .message(|m| {
            let d = m.data;
            assert!(d % 997 != 0, "boom {d}");
            if d % 7 == 0 {
                m.fail("seven", format!("{d} is a multiple of seven"));
            }
            if d % 5 == 0 {
                m.ack_immediately();
            }
            route(m, if d % 2 == 0 { "even" } else { "odd" }, format!("k{}", d % 3));
        })
        .batch(|batch, _| {
            for m in batch.iter_mut().filter(|m| m.data % 11 == 0) {
                m.fail("eleven", "a multiple of eleven");
            }
        });
    let batchers = vec![
        BatcherConfig { concurrency: 2, ..batcher("even", 13, Duration::from_millis(5)) },
        BatcherConfig { concurrency: 3, ..batcher("odd", 17, Duration::from_millis(5)) },
    ];
    let tp = TestPipeline::start(config(4, 7, batchers), handler).expect("valid");
    // Chunks of every size from 1 to 40, as publishers would send them.
    let mut first = 1;
    let mut size = 1;
    while first <= N {
        let last = (first + size).min(N + 1);
        assert!(tp.feed.push_messages(tagged(first..last)));
        first = last;
        size = size % 40 + 1;
    }
    all_acked(&tp.recorder, 1..=N).await;
    tp.pipeline.stop(WAIT).await.expect("drains");

    for (d, a) in (1..=N).zip(acked_once(&tp.recorder, 1..=N)) {
        let expected = if d % 997 == 0 {
            "panic"
        } else if d % 7 == 0 {
            "seven"
        } else if d % 5 == 0 {
            "ok" // acknowledged before handle_batch could fail it
        } else if d % 11 == 0 {
            "eleven"
        } else {
            "ok"
        };
        assert_eq!(kind(&a), expected, "message {d}: {a:?}");
        if expected != "panic" {
            assert_eq!(
                (a.batcher, a.batch_key.as_str()),
                (if d % 2 == 0 { "even" } else { "odd" }, &*format!("k{}", d % 3))
            );
        }
    }
    assert_eq!(tp.recorder.acks_of("-").len(), 0, "no message lost its reference");
}

/// What happened, in order: `handle_failed`, `handle_batch` and acknowledger calls.
#[derive(Clone, Debug, PartialEq)]
enum Entry {
    HandleFailed(Vec<u64>),
    HandleBatch(Vec<u64>),
    Acked { ok: Vec<u64>, failed: Vec<u64> },
}

type Log = Arc<Mutex<Vec<Entry>>>;

/// An acknowledger writing to the same log as the handler.
struct LogAcks(Log);

impl Acknowledger<u64> for LogAcks {
    fn ack(&self, successful: &[Message<u64>], failed: &[Message<u64>]) {
        let entry = Entry::Acked { ok: data_of(successful), failed: data_of(failed) };
        self.0.lock().expect("lock").push(entry);
    }
}

/// Runs `handler` (built with the log) over `data` in a pipeline with one batcher, and
/// returns the log.
async fn logged(data: Vec<u64>, handler: impl FnOnce(Log) -> Script) -> Vec<Entry> {
    let log: Log = Arc::default();
    let (producer, feed) = TestProducer::new();
    let batchers = vec![batcher("default", 4, Duration::from_millis(5))];
    let pipeline = Pipeline::start(
        config(2, 5, batchers),
        producer,
        Arc::new(handler(log.clone())),
        Arc::new(LogAcks(log.clone())),
    )
    .expect("valid");
    assert!(feed.push(data));
    pipeline.stop(WAIT).await.expect("drains");
    log.lock().expect("lock").clone()
}

/// Where in `log` the message `d` was acknowledged (as failed or not), once.
fn acked_at(log: &[Entry], d: u64) -> (usize, bool) {
    let at: Vec<(usize, bool)> = log
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Entry::Acked { ok, failed } if ok.contains(&d) => Some((i, false)),
            Entry::Acked { failed, .. } if failed.contains(&d) => Some((i, true)),
            _ => None,
        })
        .collect();
    assert_eq!(at.len(), 1, "message {d} acknowledged {} times in {log:?}", at.len());
    at[0]
}

/// Checks that each failed message was seen by `handle_failed` (which added 1000) before its
/// acknowledgement, and that the others were acknowledged as successful.
fn assert_failed_after_handle_failed(log: &[Entry], data: &[u64], fails: impl Fn(u64) -> bool) {
    for &d in data {
        if fails(d) {
            let (acked, as_failed) = acked_at(log, d + 1_000);
            assert!(as_failed, "{d} was acknowledged as successful");
            let seen =
                log.iter().position(|e| matches!(e, Entry::HandleFailed(ms) if ms.contains(&(d + 1_000))));
            let seen = seen.unwrap_or_else(|| panic!("handle_failed never saw {d}: {log:?}"));
            assert!(seen < acked, "{d} acknowledged before handle_failed saw it");
        } else {
            assert!(!acked_at(log, d).1, "{d} was acknowledged as failed");
        }
    }
}

/// `handle_failed` that marks what it saw (+1000) and logs it.
fn marking(log: &Log) -> impl Fn(&mut [Message<u64>]) + Send + Sync + 'static {
    let log = log.clone();
    move |ms| {
        ms.iter_mut().for_each(|m| m.data += 1_000);
        log.lock().expect("lock").push(Entry::HandleFailed(data_of(ms)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handle_failed_runs_before_messages_failed_in_handle_message_are_acked() {
    let data: Vec<u64> = (0..60).collect();
    let log = logged(data.clone(), |log| {
        Script::new()
            .message(|m| {
                if m.data % 3 == 0 {
                    m.fail("three", "a multiple of three");
                }
            })
            .failed(marking(&log))
    })
    .await;
    assert_failed_after_handle_failed(&log, &data, |d| d % 3 == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handle_failed_runs_before_messages_failed_in_handle_batch_are_acked() {
    let data: Vec<u64> = (0..60).collect();
    let log = logged(data.clone(), |log| {
        let batches = log.clone();
        Script::new()
            .batch(move |batch, _| {
                batches.lock().expect("lock").push(Entry::HandleBatch(data_of(batch)));
                batch.iter_mut().filter(|m| m.data % 4 == 1).for_each(|m| m.fail("four", "one past four"));
            })
            .failed(marking(&log))
    })
    .await;
    assert_failed_after_handle_failed(&log, &data, |d| d % 4 == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_immediately_acks_right_after_handle_message_and_not_again_at_the_end() {
    let data: Vec<u64> = (0..40).collect();
    let log = logged(data.clone(), |log| {
        Script::new()
            .message(|m| {
                if m.data % 2 == 0 {
                    m.ack_immediately();
                }
            })
            .batch(move |batch, _| {
                log.lock().expect("lock").push(Entry::HandleBatch(data_of(batch)));
                // Failing an acknowledged message changes nothing: it was acknowledged once.
                batch.iter_mut().filter(|m| m.data % 10 == 0).for_each(|m| m.fail("late", "too late"));
            })
    })
    .await;
    for d in data {
        let (acked, as_failed) = acked_at(&log, d);
        let batched = log.iter().position(|e| matches!(e, Entry::HandleBatch(ms) if ms.contains(&d)));
        let batched = batched.unwrap_or_else(|| panic!("{d} never reached handle_batch: {log:?}"));
        if d % 2 == 0 {
            assert!(!as_failed, "{d} was acknowledged as successful before handle_batch failed it");
            assert!(acked < batched, "{d} (ack_immediately) acknowledged only after handle_batch");
        } else {
            assert!(acked > batched, "{d} acknowledged before its batch was handled");
        }
    }
}
