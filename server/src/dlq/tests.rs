//! The store's behaviour: append / list / get / purge, the bound, reopening, replay, bad files,
//! and the group-committing writer.

use super::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::PathBuf;

fn letter(n: u64) -> DeadLetter {
    DeadLetter::new(json!({ "n": n }))
        .failed_at("out of range", format!("value {n} too high"), 1_000 + n)
        .failed_at("timeout", "handler took too long", 2_000 + n)
        .with_source("events")
}

fn letters(range: std::ops::Range<u64>) -> Vec<DeadLetter> {
    range.map(letter).collect()
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/dir/dlq.redb");
    (dir, path)
}

#[test]
fn append_keeps_the_message_and_every_failure_reason() {
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 100).expect("open");
    let appended = store.append(&letters(0..3)).expect("append");
    assert_eq!(appended, Appended { ids: vec![1, 2, 3], evicted: 0 });
    let entry = store.get(2).expect("get").expect("present");
    assert_eq!(entry.payload, json!({ "n": 1 }));
    assert_eq!(entry.attempts, 2);
    assert_eq!(entry.failures.len(), 2);
    assert_eq!((entry.failures[0].kind.as_str(), entry.failures[0].at), ("out of range", 1_001));
    assert_eq!(entry.last_reason(), Some("handler took too long"));
    assert_eq!(entry.first_failed_at, 1_001);
    assert!(entry.dead_lettered_at >= entry.first_failed_at);
    assert_eq!(entry.source.as_deref(), Some("events"));
    assert_eq!(store.get(99).expect("get"), None);
    assert_eq!(store.len().expect("len"), 3);
    assert_eq!(store.append(&[]).expect("empty"), Appended::default());
}

#[test]
fn list_pages_newest_first() {
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 100).expect("open");
    store.append(&letters(0..5)).expect("append");
    let page = store.list(None, 2).expect("list");
    assert_eq!(page.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [5, 4]);
    assert_eq!((page.total, page.evicted, page.capacity), (5, 0, 100));
    let next = store.list(Some(4), 10).expect("next page");
    assert_eq!(next.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 2, 1]);
}

#[test]
fn the_bound_evicts_the_oldest_and_counts_them() {
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 3).expect("open");
    store.append(&letters(0..2)).expect("append");
    let appended = store.append(&letters(2..5)).expect("append");
    assert_eq!(appended.evicted, 2);
    let page = store.list(None, 10).expect("list");
    assert_eq!(page.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [5, 4, 3]);
    assert_eq!((page.total, page.evicted), (3, 2));
    assert_eq!(store.get(1).expect("get"), None);
}

#[test]
fn reopening_keeps_entries_counters_and_id_sequence() {
    let (_dir, path) = temp();
    {
        let store = DeadLetters::open(&path, 4).expect("open");
        store.append(&letters(0..6)).expect("append");
        assert_eq!(store.purge().expect("purge"), 4);
        store.append(&letters(6..8)).expect("append");
    }
    let store = DeadLetters::open(&path, 4).expect("reopen");
    assert_eq!(store.len().expect("len"), 2);
    assert_eq!(store.evicted().expect("evicted"), 2);
    assert_eq!(store.get(8).expect("get").expect("kept").payload, json!({ "n": 7 }));
    assert_eq!(store.append(&letters(8..9)).expect("append").ids, [9]);
    drop(store);
    let smaller = DeadLetters::open(&path, 1).expect("reopen smaller");
    assert_eq!((smaller.len().expect("len"), smaller.evicted().expect("evicted")), (1, 4));
    assert_eq!(smaller.last_id().expect("last"), Some(9));
}

#[test]
fn peek_then_remove_replays_without_loss() {
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 100).expect("open");
    store.append(&letters(0..5)).expect("append");
    let first = store.peek(&Selection::All, None, 2).expect("peek");
    assert_eq!(first.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(store.len().expect("peek removes nothing"), 5);
    assert_eq!(store.remove(&[1, 2, 42]).expect("remove"), 2);
    let picked = store.peek(&Selection::Ids(vec![5, 3, 3, 1]), None, 10).expect("peek ids");
    assert_eq!(picked.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 5]);
    assert_eq!(store.peek(&Selection::All, Some(3), 10).expect("after").len(), 2);
}

#[tokio::test]
async fn replay_with_removes_only_what_was_published() {
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 100).expect("open");
    store.append(&letters(0..5)).expect("append");
    let mut seen = Vec::new();
    let n = store
        .replay_with(Selection::All, 2, |chunk| {
            seen.extend(chunk.iter().map(|e| e.id));
            // A replayed letter failing again must not make the replay loop forever.
            let again = store.clone();
            async move { again.run_blocking(|s| s.append(&letters(9..10))).await.map(|_| ()) }
        })
        .await
        .expect("replay");
    assert_eq!((n, seen), (5, vec![1, 2, 3, 4, 5]));
    assert_eq!(store.len().expect("len"), 3, "only the re-failed letters remain");
    let failed = store
        .replay_with(Selection::Ids(vec![6]), 10, |_| async { Err::<(), _>("broker down") })
        .await
        .expect_err("publish fails");
    assert!(matches!(failed, ReplayError::Publish { replayed: 0, .. }));
    assert!(store.get(6).expect("get").is_some(), "an unpublished letter stays");
}

#[test]
fn purge_empties_but_ids_keep_increasing() {
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 10).expect("open");
    store.append(&letters(0..3)).expect("append");
    assert_eq!(store.purge().expect("purge"), 3);
    assert!(store.is_empty().expect("empty"));
    assert_eq!(store.append(&letters(3..4)).expect("append").ids, [4]);
}

#[test]
fn typed_payloads_round_trip() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Reading {
        sensor: String,
        value: f64,
    }
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 10).expect("open");
    let reading = Reading { sensor: "t1".into(), value: 180.5 };
    let l = DeadLetter::from_typed(&reading).expect("encode").failed("range", "too hot");
    let id = store.append(&[l]).expect("append").ids[0];
    let back: Reading = store.get(id).expect("get").expect("there").payload_as().expect("typed");
    assert_eq!(back, reading);
}

#[test]
fn bad_paths_and_foreign_files_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"this is not a database, just some text that is long enough").expect("write");
    let under_file = DeadLetters::open(file.join("dlq.redb"), 10).expect_err("a file is in the way");
    assert!(matches!(under_file, DlqError::CreateDir { .. }), "{under_file}");
    assert!(under_file.to_string().contains("plain-file"), "{under_file}");
    let foreign = DeadLetters::open(&file, 10).expect_err("not redb");
    assert!(matches!(foreign, DlqError::Open { .. }), "{foreign}");
    assert!(foreign.to_string().contains("plain-file"), "{foreign}");
    assert!(matches!(DeadLetters::open(dir.path().join("x"), 0), Err(DlqError::ZeroCapacity)));
    let path = dir.path().join("held.redb");
    let _held = DeadLetters::open(&path, 10).expect("open");
    assert!(matches!(DeadLetters::open(&path, 10), Err(DlqError::Open { .. })), "already open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_group_commits_and_answers_each_sender() {
    let (_dir, path) = temp();
    let store = DeadLetters::open(&path, 10_000).expect("open");
    let (writer, task) = DeadLetterWriter::spawn(store.clone(), 64);
    let sends = (0..20).map(|i| {
        let writer = writer.clone();
        tokio::spawn(async move { writer.send(letters(i * 10..i * 10 + 10)).await })
    });
    let mut all = Vec::new();
    for send in sends.collect::<Vec<_>>() {
        let appended = send.await.expect("task").expect("durable");
        assert_eq!(appended.ids.len(), 10);
        assert!(appended.ids.windows(2).all(|w| w[1] == w[0] + 1), "a sender's letters stay together");
        all.extend(appended.ids);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<_>>());
    for id in [1, 100, 200] {
        assert!(store.get(id).expect("get").is_some());
    }
    drop(writer);
    task.await.expect("the writer ends once every handle is gone");
}
