//! Dead-letter store throughput: how many letters per second reach disk durably (fsynced).
//! Run: `cargo bench -p server --bench dlq` (`-- --secs N` to change the 3 s per row).
//!
//! Rows, each in a fresh temp dir with the default capacity (10,000, so the store is evicting
//! most of the time, as a full queue would):
//! 1. `append` of 100-letter batches from one thread: one fsync per batch.
//! 2. A `DeadLetterWriter` fed by 1, 4 and 16 tasks sending 100-letter batches: batches queued
//!    during a commit share the next fsync (group commit).

use pulse_server::dlq::{DeadLetter, DeadLetterWriter, DeadLetters};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BATCH: u64 = 100;
const CAPACITY: usize = 10_000;

/// A letter shaped like a failed sensor reading after three attempts.
fn letter(n: u64) -> DeadLetter {
    DeadLetter::new(
        json!({ "sensor": format!("sensor-{}", n % 64), "kind": "temperature", "value": 180.5, "seq": n }),
    )
    .failed("out of range", "temperature 180.5 out of range -50..=150 °C")
    .failed("out of range", "temperature 180.5 out of range -50..=150 °C")
    .failed("out of range", "temperature 180.5 out of range -50..=150 °C")
    .with_source("events")
}

fn batch(start: u64) -> Vec<DeadLetter> {
    (start..start + BATCH).map(letter).collect()
}

fn report(row: &str, letters: u64, elapsed: Duration) {
    let rate = letters as f64 / elapsed.as_secs_f64();
    println!("| {row} | {letters} | {:.2} s | {rate:.0} letters/s |", elapsed.as_secs_f64());
}

fn sequential(secs: Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = DeadLetters::open(dir.path().join("dlq.redb"), CAPACITY).expect("open");
    let start = Instant::now();
    let mut written = 0;
    while start.elapsed() < secs {
        written += store.append(&batch(written)).expect("append").ids.len() as u64;
    }
    report("`append`, 1 thread, 1 fsync per 100-letter batch", written, start.elapsed());
}

fn group_commit(rt: &tokio::runtime::Runtime, senders: u64, secs: Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = DeadLetters::open(dir.path().join("dlq.redb"), CAPACITY).expect("open");
    let written = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    rt.block_on(async {
        let (writer, task) = DeadLetterWriter::spawn(store, 256);
        let tasks: Vec<_> = (0..senders)
            .map(|s| {
                let (writer, written) = (writer.clone(), written.clone());
                tokio::spawn(async move {
                    let mut n = s << 40;
                    while start.elapsed() < secs {
                        let ids = writer.send(batch(n)).await.expect("send").ids.len() as u64;
                        n += ids;
                        written.fetch_add(ids, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("sender");
        }
        drop(writer);
        task.await.expect("writer task");
    });
    let row = format!("`DeadLetterWriter`, {senders} sender task(s) × 100-letter batches");
    report(&row, written.load(Ordering::Relaxed), start.elapsed());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(3), Duration::from_secs);
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    println!("| how | letters | time | throughput |\n|---|---|---|---|");
    sequential(secs);
    for senders in [1, 4, 16] {
        group_commit(&rt, senders, secs);
    }
}
