//! Durable before counted: a failure shows in the ledger only once its dead letter is committed.
//!
//! - In process: under a steady stream of failures, every snapshot has
//!   `failed <= dead_letters.written + dead_letters.not_stored` (a ledger that counted failures
//!   at acknowledgement, before the asynchronous write, runs ahead of the store).
//! - Across a crash: the real server binary, fed only failing readings, is SIGKILLed right after
//!   a snapshot; a restart on the same data directory finds at least as many letters as that
//!   snapshot counted failed. Each round also prints what the crash took with it: the events
//!   answered 202 but still in memory (`in_flight`), the embedded mode's crash loss.

mod common;

use common::{ServerProcess, TestServer};
use pulse_server::ServerConfig;

/// Simulator settings that make every reading fail validation.
const ALL_FAILING: [(&str, &str); 2] = [("rate_per_s", "20000"), ("invalid_pct", "100")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_never_counts_a_failure_before_its_letter_is_written() {
    let s =
        TestServer::with_config(ServerConfig { dlq_capacity: 10_000_000, ..ServerConfig::default() }).await;
    s.call::<()>("start_simulator", &ALL_FAILING).await;
    let mut seen = 0;
    while seen < 200 {
        let st = s.stats().await;
        let settled = st.dead_letters.written + st.dead_letters.not_stored;
        assert!(
            st.failed <= settled,
            "failed {} counted before {settled} were written or given up",
            st.failed
        );
        if st.failed > 0 {
            seen += 1;
        }
    }
    s.call::<()>("stop_simulator", &[]).await;
    let idle = s.idle_stats().await;
    assert_eq!(idle.failed, idle.dead_letters.written + idle.dead_letters.not_stored);
    assert!(idle.balances());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_the_ledger_showed_is_in_the_store_after_a_sigkill() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut stored_before = 0;
    for (round, kill_after) in [2_000u64, 5_000, 1_000].into_iter().enumerate() {
        let mut node = ServerProcess::start(data.path(), &[("PULSE_DLQ_CAPACITY", "10000000")]).await;
        let at_start = node.stats().await.dead_letters;
        assert_eq!(at_start.stored, stored_before, "round {round}: the store as the last round left it");
        assert_eq!(node.rpc("start_simulator", &ALL_FAILING).await, 200);
        let last = loop {
            let st = node.stats().await;
            if st.failed >= kill_after {
                break st;
            }
        };
        node.child.kill().expect("SIGKILL");
        node.child.wait().expect("reaped");
        println!(
            "round {round}: killed with {} failed counted, {} letters written, {} events in flight \
             (accepted, not yet settled: lost with the process)",
            last.failed, last.dead_letters.written, last.in_flight
        );
        drop(node);
        let node = ServerProcess::start(data.path(), &[("PULSE_DLQ_CAPACITY", "10000000")]).await;
        let after = node.stats().await.dead_letters;
        let found = after.stored - stored_before;
        assert!(
            found >= last.failed - last.dead_letters.not_stored,
            "round {round}: the ledger showed {} failed, the store kept {found}",
            last.failed
        );
        stored_before = after.stored;
    }
}
