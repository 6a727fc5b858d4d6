//! Helpers of the cluster tests: a node of the real binary on a shared redis-server, posting,
//! the cluster view, polling with a bounded deadline, and the recorded acknowledgements.

use super::ServerProcess;
use super::redis_server::RedisServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A node of the cluster on `redis`, named `name`, with `extra` settings.
pub(crate) async fn node(
    redis: &RedisServer,
    data: &tempfile::TempDir,
    name: &str,
    extra: &[(&str, &str)],
) -> ServerProcess {
    let url = redis.url();
    // Every node records what its pipeline acknowledged (a restarted node appends).
    let acks = data.path().join(format!("{name}.acks"));
    let acks = acks.to_str().expect("a UTF-8 path").to_owned();
    let mut env = vec![
        ("PULSE_BUS", url.as_str()),
        ("PULSE_NODE_NAME", name),
        ("PULSE_HEARTBEAT_TTL_MS", "1000"),
        ("PULSE_RECORD_ACKS", acks.as_str()),
    ];
    env.extend_from_slice(extra);
    let dir = data.path().join(name);
    std::fs::create_dir_all(&dir).expect("node dir");
    ServerProcess::start(&dir, &env).await
}

pub(crate) async fn cluster(node: &ServerProcess) -> Value {
    let res = reqwest::get(format!("{}/api/cluster", node.base)).await.expect("request");
    assert_eq!(res.status(), 200, "GET /api/cluster");
    res.json().await.expect("JSON")
}

/// Posts `body` to `node`'s ingest: the status and the `Retry-After` header.
pub(crate) async fn post(node: &ServerProcess, body: &Value) -> (u16, Option<String>, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/events", node.base))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

/// `n` readings; every `invalid_every`-th out of range (it fails in the pipeline).
pub(crate) fn batch(from: usize, n: usize, invalid_every: usize) -> Value {
    let readings: Vec<Value> = (from..from + n)
        .map(|i| {
            let value = if i % invalid_every == 0 { 150.0 } else { 40.0 };
            json!({ "sensor": format!("s-{i}"), "kind": "humidity", "value": value })
        })
        .collect();
    Value::Array(readings)
}

/// Polls `probe` until it gives `Some`, at most `limit`.
pub(crate) async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most 60 s) until nothing is in flight, pending or undelivered, cluster-wide; the
/// view then.
pub(crate) async fn quiescent(node: &ServerProcess) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = cluster(node).await;
        if c["in_flight"] == 0 && c["pending_entries"] == 0 && c["lag_entries"] == 0 {
            return c;
        }
        assert!(Instant::now() < deadline, "not quiescent after 60 s: {c:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count, got {v}"))
}

/// From every node's `--record-acks` file: how often each event (by its unique sensor name
/// `s-<i>`) was acknowledged by a pipeline. Asserts each of the `events` posted was, at least
/// once; returns the duplicates (acknowledgements beyond the first).
pub(crate) fn each_at_least_once(data: &tempfile::TempDir, events: usize) -> u64 {
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for file in std::fs::read_dir(data.path()).expect("data dir").flatten() {
        if file.path().extension().is_some_and(|e| e == "acks") {
            let text = std::fs::read_to_string(file.path()).expect("acks file");
            for line in text.lines() {
                let sensor = line.split(' ').nth(1).expect("<id> <sensor> <outcome>");
                *seen.entry(sensor.to_owned()).or_default() += 1;
            }
        }
    }
    let missing: Vec<usize> = (0..events).filter(|i| !seen.contains_key(&format!("s-{i}"))).collect();
    assert!(
        missing.is_empty(),
        "{} events never acknowledged, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(seen.len(), events, "only the posted events were acknowledged");
    seen.values().map(|n| n - 1).sum()
}

pub(crate) fn row<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["nodes"].as_array().and_then(|n| n.iter().find(|n| n["name"] == name)).expect("the node is listed")
}

/// Starts the server binary with `env`, which must refuse to start: what it said (stdout and
/// stderr) once it exited (at most 20 s).
pub(crate) async fn refused_start(data: &std::path::Path, env: &[(&str, &str)]) -> String {
    let mut child = std::process::Command::new(super::server_bin())
        .env("PULSE_ADDR", "127.0.0.1:0")
        .env("PULSE_DATA_DIR", data)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    let exited = until("the server to exit", Duration::from_secs(20), || {
        let exited = child.try_wait().expect("wait").is_some();
        async move { exited.then_some(()) }
    });
    exited.await;
    let out = child.wait_with_output().expect("output");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "it must not start: {said}");
    said
}

/// The checks every kill test makes at quiescence, for `events` posted: all in the ledger once,
/// every event final, the total balances, no late acks.
pub(crate) fn assert_balanced_at(view: &Value, events: u64) {
    let total = &view["total"];
    assert_eq!(count(&total["published"]), events, "every 202 is in the cluster ledger: {total}");
    let finished = count(&total["processed"]) + count(&total["failed"]) + count(&total["dead_lettered"]);
    assert_eq!(finished, events, "every event reached a final outcome, counted once per entry: {total}");
    assert_eq!(view["balances"], true);
    assert_eq!(count(&total["duplicate_entries"]), 0, "a SIGKILLed node cannot ack late: {total}");
    // Each failure's letter was added with its entry's ack: once, however often the entry
    // was delivered (a letter written before a crash and again after would count twice).
    let letters = count(&view["dead_letters"]) + count(&view["dead_letters_evicted"]);
    let failures = count(&total["failed"]) + count(&total["dead_lettered"]);
    assert_eq!(letters, failures, "one dead letter per failed event, in the cluster's queue: {view}");
}

/// Events a SIGKILLed node can leave for others to redeliver, from its settings (defaults):
/// every entry it read and did not acknowledge is redelivered whole. Those are its read-ahead
/// (4 entries), the entry its producer is handing out, and the entries of the events its
/// pipeline holds (2 processors × max demand 10, a batch of 100, 8 waiting batches and 1 being
/// handled: 1,020 events, which in publish order span at most 1,020 / per_entry + 1 entries).
pub(crate) fn in_flight_bound(per_entry: u64) -> u64 {
    let (read_ahead, processors, max_demand, batch, inbox): (u64, u64, u64, u64, u64) = (4, 2, 10, 100, 8);
    let pipeline = processors * max_demand + batch * (inbox + 2);
    (read_ahead + 1 + pipeline.div_ceil(per_entry) + 1) * per_entry
}
