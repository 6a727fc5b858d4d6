//! Boots a real Pulse server on 127.0.0.1:0 for integration tests.

#![allow(dead_code)]

pub(crate) mod cluster;
pub(crate) mod redis_server;

/// The server binary the process tests run: `PULSE_TEST_SERVER` if set (a worktree sharing its
/// target directory with another checkout points it at its own `deps/server-<hash>`, which the
/// other checkout's builds cannot overwrite), else cargo's `CARGO_BIN_EXE_server`.
pub(crate) fn server_bin() -> std::ffi::OsString {
    std::env::var_os("PULSE_TEST_SERVER").unwrap_or_else(|| env!("CARGO_BIN_EXE_server").into())
}

use app::error::AppError;
use app::model::StatsSnapshot;
use pulse_server::ServerConfig;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) struct TestServer {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<StatsSnapshot>>,
    /// The server's data dir (dead-letter store), removed when the test ends, unless the test
    /// chose its own.
    _data: Option<tempfile::TempDir>,
}

impl TestServer {
    pub(crate) async fn start() -> Self {
        Self::with_config(ServerConfig::default()).await
    }

    /// A server with `config`; unless `config.data_dir` was set, its data goes to a fresh temp
    /// dir (tests run side by side, and must not share the dead-letter store).
    pub(crate) async fn with_config(config: ServerConfig) -> Self {
        Self::bound(config, "127.0.0.1:0").await
    }

    /// A server with `config` listening on `bind` (`0.0.0.0:0`: every interface, as an exposed
    /// server does); the test still talks to it on 127.0.0.1.
    pub(crate) async fn bound(mut config: ServerConfig, bind: &str) -> Self {
        let data = (config.data_dir == ServerConfig::default().data_dir).then(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            config.data_dir = dir.path().to_path_buf();
            dir
        });
        let listener = tokio::net::TcpListener::bind(bind).await.expect("bind port 0");
        let port = listener.local_addr().expect("local addr").port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(pulse_server::run(config, listener, shutdown.clone()));
        Self { addr, http: reqwest::Client::new(), shutdown, task, _data: data }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) async fn post_events(&self, body: impl Into<reqwest::Body>) -> (u16, serde_json::Value) {
        let res = self
            .http
            .post(self.url("/api/events"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.expect("JSON body"))
    }

    /// Calls server function `endpoint` with form-encoded arguments: (status, body bytes).
    pub(crate) async fn rpc(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, bytes::Bytes) {
        let res =
            self.http.post(self.url(&format!("/rpc/{endpoint}"))).form(form).send().await.expect("request");
        let status = res.status().as_u16();
        assert_eq!(
            res.headers().get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/x-postcard"),
            "{endpoint} answers postcard"
        );
        (status, res.bytes().await.expect("body"))
    }

    /// Calls `endpoint`, which must succeed (200), and decodes its postcard answer.
    pub(crate) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> T {
        let (status, body) = self.rpc(endpoint, form).await;
        answer(endpoint, form, status, &body)
    }

    /// Calls `endpoint`, which must refuse: (status, the error it answered with).
    pub(crate) async fn refused(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, AppError) {
        let (status, body) = self.rpc(endpoint, form).await;
        (status, refusal(endpoint, form, status, &body))
    }

    /// The page at `path`, as the server renders it.
    pub(crate) async fn html(&self, path: &str) -> String {
        self.http.get(self.url(path)).send().await.expect("request").text().await.expect("html")
    }

    pub(crate) async fn stats(&self) -> StatsSnapshot {
        self.http.get(self.url("/api/stats")).send().await.expect("request").json().await.expect("stats JSON")
    }

    /// Polls `/api/stats` until nothing is in flight (at most 10 s) and returns that snapshot.
    pub(crate) async fn idle_stats(&self) -> StatsSnapshot {
        self.until("the pipeline to be idle", |s| s.in_flight == 0).await
    }

    /// Polls `/api/stats` until `cond` holds (at most 10 s) and returns that snapshot.
    pub(crate) async fn until(&self, what: &str, cond: impl Fn(&StatsSnapshot) -> bool) -> StatsSnapshot {
        for _ in 0..200 {
            let s = self.stats().await;
            if cond(&s) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out after 10 s waiting for {what}: {:?}", self.stats().await);
    }

    /// Cancels the server and returns its final ledger.
    pub(crate) async fn stop(self) -> StatsSnapshot {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("server stops within 15 s")
            .expect("server task")
            .expect("server ran")
    }
}

/// A server function's postcard answer, which must be a success (200).
fn answer<T: serde::de::DeserializeOwned>(
    endpoint: &str,
    form: &[(&str, &str)],
    status: u16,
    body: &[u8],
) -> T {
    if status != 200 {
        let error: Result<AppError, _> = postcard::from_bytes(body);
        panic!("{endpoint} {form:?} answered {status}: {error:?}");
    }
    postcard::from_bytes(body).unwrap_or_else(|e| panic!("{endpoint}: not the expected answer: {e}"))
}

/// A server function's refusal: not a success, and an `AppError`.
fn refusal(endpoint: &str, form: &[(&str, &str)], status: u16, body: &[u8]) -> AppError {
    assert!(!(200..300).contains(&status), "{endpoint} {form:?} was accepted");
    postcard::from_bytes(body).unwrap_or_else(|e| panic!("{endpoint}: not an AppError: {e}"))
}

pub(crate) fn reading(sensor: &str, kind: &str, value: f64) -> serde_json::Value {
    serde_json::json!({ "sensor": sensor, "kind": kind, "value": value })
}

/// The real `server` binary as its own process on a free loopback port: for tests that signal
/// or kill it. Its stdout (JSON log lines) goes to `log`; it is killed when dropped.
pub(crate) struct ServerProcess {
    pub(crate) child: std::process::Child,
    pub(crate) base: String,
    pub(crate) log: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts the binary with its data in `data` and `env` on top of the defaults, and waits
    /// (at most 10 s) until `/healthz` answers. The server binds port 0 and the test reads the
    /// port from its "listening on" line: a port picked here and freed could be taken by another
    /// test's server before this one binds it, and the test would then talk to the wrong server.
    pub(crate) async fn start(data: &std::path::Path, env: &[(&str, &str)]) -> Self {
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = data.join(format!("server-{}-{n}.log", std::process::id()));
        let child = std::process::Command::new(server_bin())
            .env("PULSE_ADDR", "127.0.0.1:0")
            .env("PULSE_DATA_DIR", data)
            .env("PULSE_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("RUST_BACKTRACE", "0")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&log).expect("log file"))
            .stderr(std::fs::File::create(log.with_extension("err")).expect("stderr file"))
            .spawn()
            .expect("server starts");
        let mut node = Self { child, base: String::new(), log };
        for _ in 0..200 {
            if let Some(status) = node.child.try_wait().expect("wait") {
                let err = std::fs::read_to_string(node.log.with_extension("err")).unwrap_or_default();
                panic!("the server exited ({status}) before listening: {err}");
            }
            if node.base.is_empty() {
                node.base = node.listening_on().unwrap_or_default();
            }
            if !node.base.is_empty()
                && reqwest::get(format!("{}/healthz", node.base)).await.is_ok_and(|r| r.status() == 200)
            {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not answer /healthz within 10 s");
    }

    /// `http://127.0.0.1:PORT` from the server's "listening on" log line, once it is written.
    fn listening_on(&self) -> Option<String> {
        let log = std::fs::read_to_string(&self.log).ok()?;
        let at = log.find("listening on http://")? + "listening on ".len();
        let url: String = log[at..].chars().take_while(|c| !matches!(c, ',' | '"' | ' ')).collect();
        Some(url)
    }

    pub(crate) async fn stats(&self) -> StatsSnapshot {
        reqwest::get(format!("{}/api/stats", self.base)).await.expect("stats").json().await.expect("JSON")
    }

    /// Calls server function `endpoint`: (status, body bytes).
    pub(crate) async fn rpc_answer(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, bytes::Bytes) {
        let res = reqwest::Client::new()
            .post(format!("{}/rpc/{endpoint}", self.base))
            .form(form)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.bytes().await.expect("body"))
    }

    /// Calls server function `endpoint`; returns the status.
    pub(crate) async fn rpc(&self, endpoint: &str, form: &[(&str, &str)]) -> u16 {
        self.rpc_answer(endpoint, form).await.0
    }

    /// Calls server function `endpoint`, which must succeed, and decodes its postcard answer.
    pub(crate) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> T {
        let (status, body) = self.rpc_answer(endpoint, form).await;
        answer(endpoint, form, status, &body)
    }

    /// Calls `endpoint`, which must refuse: (status, the error it answered with).
    pub(crate) async fn refused(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, AppError) {
        let (status, body) = self.rpc_answer(endpoint, form).await;
        (status, refusal(endpoint, form, status, &body))
    }

    /// Sends SIGTERM (through `kill`, so the tests need no unsafe code).
    pub(crate) fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM sent");
    }

    /// The process's resident set now, in MiB (from `/proc`).
    pub(crate) fn rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    /// Waits (polling, at most `limit`) for the process to exit; its status, or `None`.
    pub(crate) async fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let polls = limit.as_millis() / 20;
        for _ in 0..polls {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Waits (at most 10 s) until the process has logged a line containing `text`.
    pub(crate) async fn until_logged(&self, text: &str) {
        for _ in 0..200 {
            if std::fs::read_to_string(&self.log).is_ok_and(|log| log.contains(text)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not log {text:?} within 10 s");
    }

    /// The fields of the "final ledger" log line, if it was written.
    pub(crate) fn final_ledger(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["fields"]["message"] == "final ledger")
            .map(|v| v["fields"].clone())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
