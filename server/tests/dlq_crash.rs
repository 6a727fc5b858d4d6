//! The dead-letter store loses nothing it acknowledged when the process dies mid-write.
//!
//! The parent test re-runs this test binary as a child in "writer mode" (`writer_child`, an
//! ignored test selected with `--ignored --exact`): the child dead-letters batches from several
//! tasks through a `DeadLetterWriter` and prints each acknowledged id. The parent reads a few
//! hundred acknowledgements, SIGKILLs the child mid-stream, reopens the store and checks that
//! every acknowledged id is there with its payload intact. Three rounds on the same file, so
//! recovery after a kill is itself followed by more writes and another kill.
//!
//! A SIGKILL leaves the OS page cache alone, so this checks that commits are atomic and that an
//! acknowledgement always follows its commit; surviving a power cut rests on redb's
//! `Durability::Immediate` fsync. (With `Durability::None` this test fails: ids are lost.)

use pulse_server::dlq::{DeadLetter, DeadLetterWriter, DeadLetters};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child: where its store is. Without it `writer_child` does nothing.
const PATH_VAR: &str = "PULSE_DLQ_CRASH_PATH";
/// The child stops by itself after this, even if nobody kills it.
const CHILD_LIFETIME: Duration = Duration::from_secs(10);
const CAPACITY: usize = 1_000_000;

/// The payload of the letter numbered `seq`: the parent rebuilds it to compare.
fn payload(seq: u64) -> Value {
    json!({ "seq": seq, "blob": format!("{seq:016x}").repeat(16) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writer mode: run by `acknowledged_letters_survive_sigkill` as a child process"]
async fn writer_child() {
    let Ok(path) = std::env::var(PATH_VAR) else { return };
    let store = DeadLetters::open(&path, CAPACITY).expect("child opens the store");
    let (writer, _task) = DeadLetterWriter::spawn(store, 64);
    let deadline = Instant::now() + CHILD_LIFETIME;
    let senders: Vec<_> = (0..4u64)
        .map(|task| {
            let writer = writer.clone();
            tokio::spawn(async move {
                let mut seq = task << 40;
                while Instant::now() < deadline {
                    let seqs: Vec<u64> = (seq..seq + 10).collect();
                    seq += 10;
                    let letters = seqs
                        .iter()
                        .map(|&s| DeadLetter::new(payload(s)).failed("crash test", "boom"))
                        .collect();
                    let appended = writer.send(letters).await.expect("child appends");
                    for (id, s) in appended.ids.iter().zip(&seqs) {
                        println!("acked {id} {s}");
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("sender task");
    }
}

/// Runs one child until it has acknowledged at least `kill_after` letters, kills it, and
/// returns every `(id, seq)` it acknowledged (including lines printed just before the kill).
fn run_and_kill(path: &Path, kill_after: usize) -> Vec<(u64, u64)> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args(["writer_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(PATH_VAR, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut acked = Vec::new();
    let mut lines = BufReader::new(stdout).lines();
    let mut killed = false;
    for line in lines.by_ref() {
        let line = line.expect("read the child's output");
        if let Some(rest) = line.strip_prefix("acked ") {
            let mut parts = rest.split(' ').map(|p| p.parse::<u64>().expect("a number"));
            acked.push((parts.next().expect("id"), parts.next().expect("seq")));
        }
        if acked.len() >= kill_after {
            child.kill().expect("SIGKILL the child");
            killed = true;
            break;
        }
    }
    // What it printed before dying was acknowledged too.
    for line in lines.map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("acked ") {
            let mut parts = rest.split(' ').filter_map(|p| p.parse::<u64>().ok());
            if let (Some(id), Some(seq)) = (parts.next(), parts.next()) {
                acked.push((id, seq));
            }
        }
    }
    let status = child.wait().expect("reap the child");
    assert!(killed, "the child ended ({status}) before acknowledging {kill_after} letters");
    acked
}

#[test]
fn acknowledged_letters_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data/dead_letters.redb");
    let mut all = Vec::new();
    for kill_after in [200, 350, 500] {
        let acked = run_and_kill(&path, kill_after);
        let store = DeadLetters::open(&path, CAPACITY).expect("the store reopens after a SIGKILL");
        for &(id, seq) in &acked {
            let entry = store.get(id).expect("read").unwrap_or_else(|| panic!("acknowledged id {id} lost"));
            assert_eq!(entry.payload, payload(seq), "id {id} payload intact");
            assert_eq!(entry.last_reason(), Some("boom"));
        }
        all.extend(acked);
        let len = store.len().expect("len");
        assert!(len >= all.len() as u64, "{len} stored < {} acknowledged", all.len());
        let mut ids: Vec<u64> = all.iter().map(|&(id, _)| id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "no id given twice, even across restarts");
    }
}
