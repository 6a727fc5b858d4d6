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

use app::model::StatsSnapshot;
use common::TestServer;
use pulse_server::ServerConfig;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// The server binary on a free loopback port, with its data in `data`.
struct Node {
    child: Child,
    base: String,
}

impl Node {
    async fn start(data: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("PULSE_ADDR", format!("127.0.0.1:{port}"))
            .env("PULSE_DATA_DIR", data)
            .env("PULSE_DLQ_CAPACITY", "10000000")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts");
        let node = Self { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..200 {
            if reqwest::get(format!("{}/healthz", node.base)).await.is_ok_and(|r| r.status() == 200) {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not answer /healthz within 10 s");
    }

    async fn stats(&self) -> StatsSnapshot {
        reqwest::get(format!("{}/api/stats", self.base)).await.expect("stats").json().await.expect("JSON")
    }

    async fn simulate(&self, form: &[(&str, &str)]) {
        let res = reqwest::Client::new()
            .post(format!("{}/rpc/start_simulator", self.base))
            .form(form)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_the_ledger_showed_is_in_the_store_after_a_sigkill() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut stored_before = 0;
    for (round, kill_after) in [2_000u64, 5_000, 1_000].into_iter().enumerate() {
        let mut node = Node::start(data.path()).await;
        let at_start = node.stats().await.dead_letters;
        assert_eq!(at_start.stored, stored_before, "round {round}: the store as the last round left it");
        node.simulate(&ALL_FAILING).await;
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
        let node = Node::start(data.path()).await;
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
