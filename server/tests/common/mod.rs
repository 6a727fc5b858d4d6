//! Boots a real Pulse server on 127.0.0.1:0 for integration tests.

#![allow(dead_code)]

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
    pub(crate) async fn with_config(mut config: ServerConfig) -> Self {
        let data = (config.data_dir == ServerConfig::default().data_dir).then(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            config.data_dir = dir.path().to_path_buf();
            dir
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
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
        if status != 200 {
            let error: Result<AppError, _> = postcard::from_bytes(&body);
            panic!("{endpoint} {form:?} answered {status}: {error:?}");
        }
        postcard::from_bytes(&body).unwrap_or_else(|e| panic!("{endpoint}: not the expected answer: {e}"))
    }

    /// Calls `endpoint`, which must refuse: (status, the error it answered with).
    pub(crate) async fn refused(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, AppError) {
        let (status, body) = self.rpc(endpoint, form).await;
        assert!(!(200..300).contains(&status), "{endpoint} {form:?} was accepted");
        let error =
            postcard::from_bytes(&body).unwrap_or_else(|e| panic!("{endpoint}: not an AppError: {e}"));
        (status, error)
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

pub(crate) fn reading(sensor: &str, kind: &str, value: f64) -> serde_json::Value {
    serde_json::json!({ "sensor": sensor, "kind": kind, "value": value })
}
