//! Scale-out (issue 14) against a real redis-server: node processes of the real binary sharing
//! one Redis, events posted across them, a node SIGKILLed or stopped, Redis killed. Every test
//! waits for conditions with a bounded deadline; none sleeps to let things settle.

mod common;

use common::ServerProcess;
use common::redis_server::RedisServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A node of the cluster on `redis`, named `name`, with `extra` settings.
async fn node(
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

async fn cluster(node: &ServerProcess) -> Value {
    let res = reqwest::get(format!("{}/api/cluster", node.base)).await.expect("request");
    assert_eq!(res.status(), 200, "GET /api/cluster");
    res.json().await.expect("JSON")
}

/// Posts `body` to `node`'s ingest: the status and the `Retry-After` header.
async fn post(node: &ServerProcess, body: &Value) -> (u16, Option<String>, Value) {
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
fn batch(from: usize, n: usize, invalid_every: usize) -> Value {
    let readings: Vec<Value> = (from..from + n)
        .map(|i| {
            let value = if i % invalid_every == 0 { 150.0 } else { 40.0 };
            json!({ "sensor": format!("s-{i}"), "kind": "humidity", "value": value })
        })
        .collect();
    Value::Array(readings)
}

/// Polls `probe` until it gives `Some`, at most `limit`.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
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
async fn quiescent(node: &ServerProcess) -> Value {
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

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count, got {v}"))
}

/// Posts / events per post / every n-th event invalid, in the kill tests.
const POSTS: usize = 120;
const PER_POST: usize = 50;
const INVALID_EVERY: usize = 25;

/// Three nodes a, b, c on `redis` (`slow` rate-limited so it holds entries; `extra` for all),
/// `POSTS` batches posted round-robin (all 202), then `slow` SIGKILLed once it holds pending
/// entries. Returns the nodes left, the killed one's directory name and how many entries it
/// held.
async fn load_then_kill(
    redis: &RedisServer,
    data: &tempfile::TempDir,
    slow: &str,
    extra: &[(&str, &str)],
) -> (Vec<ServerProcess>, u64) {
    let mut nodes = Vec::new();
    for name in ["a", "b", "c"] {
        let mut env = extra.to_vec();
        if name == slow {
            env.push(("PULSE_RATE_LIMIT_PER_S", "400"));
        }
        nodes.push((name, node(redis, data, name, &env).await));
    }
    for i in 0..POSTS {
        let (status, _, body) = post(&nodes[i % 3].1, &batch(i * PER_POST, PER_POST, INVALID_EVERY)).await;
        assert_eq!(status, 202, "post {i}: {body}");
        assert_eq!(count(&body["accepted"]), PER_POST as u64);
    }
    let watcher = nodes.iter().position(|(n, _)| *n != slow).expect("a node stays");
    let held = until(&format!("{slow} to hold pending entries"), Duration::from_secs(20), || async {
        let view = cluster(&nodes[watcher].1).await;
        let row = view["nodes"].as_array()?.iter().find(|n| n["name"] == slow)?.clone();
        (count(&row["pending_entries"]) > 0).then(|| count(&row["pending_entries"]))
    })
    .await;
    let victim = nodes.iter().position(|(n, _)| *n == slow).expect("the slow node");
    let (_, mut killed) = nodes.remove(victim);
    killed.child.kill().expect("SIGKILL");
    killed.child.wait().expect("gone");
    (nodes.into_iter().map(|(_, p)| p).collect(), held)
}

/// The checks every kill test makes at quiescence: everything posted is in the ledger once,
/// every event reached a final outcome, the invalid ones failed, the total balances.
fn assert_balanced(view: &Value) {
    let total = &view["total"];
    let events = (POSTS * PER_POST) as u64;
    assert_eq!(count(&total["published"]), events, "every 202 is in the cluster ledger: {total}");
    let finished = count(&total["processed"]) + count(&total["failed"]) + count(&total["dead_lettered"]);
    assert_eq!(finished, events, "every event reached a final outcome, counted once per entry: {total}");
    assert_eq!(view["balances"], true);
    assert_eq!(count(&total["duplicate_entries"]), 0, "a SIGKILLed node cannot ack late: {total}");
}

/// From every node's `--record-acks` file: how often each event (by its unique sensor name
/// `s-<i>`) was acknowledged by a pipeline. Asserts each of the `events` posted was, at least
/// once; returns the duplicates (acknowledgements beyond the first).
fn each_at_least_once(data: &tempfile::TempDir, events: usize) -> u64 {
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

fn row<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["nodes"].as_array().and_then(|n| n.iter().find(|n| n["name"] == name)).expect("the node is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_pending_entries_are_claimed_and_the_cluster_ledger_balances() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let (nodes, held) = load_then_kill(&redis, &data, "c", &[]).await;
    let view = quiescent(&nodes[0]).await;
    println!("c held {held} pending entries when killed; the cluster then: {view:#}");
    assert_balanced(&view);
    let duplicates = each_at_least_once(&data, POSTS * PER_POST);
    let redelivered = count(&view["total"]["redelivered"]);
    println!("processed twice: {duplicates} events (redelivered {redelivered})");
    assert!(duplicates <= redelivered, "only a redelivered event can be processed twice");
    let total = &view["total"];
    let events = (POSTS * PER_POST) as u64;
    assert_eq!(
        count(&total["failed"]),
        events.div_ceil(INVALID_EVERY as u64),
        "the invalid ones failed once"
    );
    assert!(count(&total["claimed_entries"]) >= held, "c's pending entries were claimed: {total}");
    assert!(
        count(&total["redelivered"]) >= held * PER_POST as u64,
        "claimed events are redeliveries: {total}"
    );
    assert_eq!(row(&view, "c")["heartbeat_age_ms"], Value::Null, "c's heartbeat expired");
    assert_eq!(cluster(&nodes[1]).await["total"], view["total"], "every node sees the same total");
}

/// Events a SIGKILLed node can leave for others to redeliver, from its settings (defaults):
/// every entry it read and did not acknowledge is redelivered whole. Those are its read-ahead
/// (4 entries), the entry its producer is handing out, and the entries of the events its
/// pipeline holds (2 processors × max demand 10, a batch of 100, 8 waiting batches and 1 being
/// handled: 1,020 events, which in publish order span at most 1,020 / per_entry + 1 entries).
fn in_flight_bound(per_entry: u64) -> u64 {
    let (read_ahead, processors, max_demand, batch, inbox): (u64, u64, u64, u64, u64) = (4, 2, 10, 100, 8);
    let pipeline = processors * max_demand + batch * (inbox + 2);
    (read_ahead + 1 + pipeline.div_ceil(per_entry) + 1) * per_entry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_at_a_random_point_loses_nothing_for_several_seeds() {
    for seed in [7, 11, 23] {
        let mut rng = fastrand::Rng::with_seed(seed);
        let redis = RedisServer::start().await;
        let data = tempfile::tempdir().expect("temp dir");
        let mut nodes = Vec::new();
        for name in ["a", "b", "c"] {
            nodes.push(Some(node(&redis, &data, name, &[("PULSE_RATE_LIMIT_PER_S", "4000")]).await));
        }
        let victim = rng.usize(0..3);
        let kill_at = rng.usize(POSTS / 5..POSTS * 7 / 10);
        let mut posted = 0u64;
        for i in 0..POSTS {
            if i == kill_at {
                let mut dead = nodes[victim].take().expect("alive");
                dead.child.kill().expect("SIGKILL");
                dead.child.wait().expect("gone");
            }
            let to = (i..i + 3).map(|k| k % 3).find(|k| nodes[*k].is_some()).expect("a live node");
            let (status, _, body) =
                post(nodes[to].as_ref().expect("alive"), &batch(i * PER_POST, PER_POST, INVALID_EVERY)).await;
            assert_eq!(status, 202, "seed {seed}, post {i}: {body}");
            posted += count(&body["accepted"]);
        }
        let watcher = nodes.iter().flatten().next().expect("a live node");
        let view = quiescent(watcher).await;
        assert_balanced(&view);
        assert_eq!(posted, (POSTS * PER_POST) as u64);
        let redelivered = count(&view["total"]["redelivered"]);
        let duplicates = each_at_least_once(&data, POSTS * PER_POST);
        assert!(
            duplicates <= redelivered,
            "seed {seed}: {duplicates} processed twice, {redelivered} redelivered"
        );
        let bound = in_flight_bound(PER_POST as u64);
        println!(
            "seed {seed}: killed {} after {kill_at} of {POSTS} posts; redelivered {redelivered} events, \
             {duplicates} of them processed twice (bound from its settings: {bound})",
            ["a", "b", "c"][victim]
        );
        assert!(redelivered <= bound, "seed {seed}: {redelivered} redelivered > bound {bound}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_lease_holder_hands_the_lease_and_its_entries_on() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let mut conn = redis.conn().await;
    // a starts first and takes the lease at once; it is also the slow one.
    let (nodes, held) = load_then_kill(&redis, &data, "a", &[]).await;
    let view = quiescent(&nodes[0]).await;
    assert_balanced(&view);
    assert!(each_at_least_once(&data, POSTS * PER_POST) <= count(&view["total"]["redelivered"]));
    let holder: Option<String> =
        redis::cmd("GET").arg("pulse:reaper").query_async(&mut conn).await.expect("GET");
    assert!(matches!(holder.as_deref(), Some("b" | "c")), "the lease moved on: {holder:?}");
    assert!(count(&view["total"]["claimed_entries"]) >= held, "{view}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_delivered_too_often_are_dead_lettered_as_poison() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    // One delivery allowed: whatever a dead node held is poison when claimed.
    let (nodes, held) = load_then_kill(&redis, &data, "c", &[("PULSE_BUS_MAX_DELIVERIES", "1")]).await;
    let view = quiescent(&nodes[0]).await;
    assert_balanced(&view);
    let total = &view["total"];
    assert_eq!(count(&total["claimed_entries"]), 0, "nothing claimed for processing: {total}");
    assert!(count(&total["dead_lettered"]) >= held * PER_POST as u64, "{total}");
    let letters: u64 =
        redis::cmd("XLEN").arg("pulse:dlq").query_async(&mut redis.conn().await).await.expect("XLEN");
    assert_eq!(letters * PER_POST as u64, count(&total["dead_lettered"]), "one letter per poison entry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_under_its_name_before_its_ttl_finishes_its_own_entries() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    // A long TTL: c is back before it runs out.
    let ttl = [("PULSE_HEARTBEAT_TTL_MS", "6000")];
    let (nodes, held) = load_then_kill(&redis, &data, "c", &ttl).await;
    let c = node(&redis, &data, "c", &ttl).await;
    let view = quiescent(&c).await;
    assert_balanced(&view);
    assert!(each_at_least_once(&data, POSTS * PER_POST) <= count(&view["total"]["redelivered"]));
    assert_eq!(count(&view["total"]["claimed_entries"]), 0, "nobody claimed c's entries: {view}");
    let again = count(&row(&view, "c")["ledger"]["redelivered"]);
    assert!(again >= held * PER_POST as u64, "c redelivered its own {held} entries to itself: {again}");
    assert_eq!(row(&view, "c")["status"], "alive");
    drop(nodes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_stop_drains_acks_and_leaves_with_nothing_redelivered() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let a = node(&redis, &data, "a", &[]).await;
    let mut b = node(&redis, &data, "b", &[("PULSE_RATE_LIMIT_PER_S", "2000")]).await;
    let events = 40 * 50;
    for i in 0..40 {
        let (status, _, body) = post(if i % 2 == 0 { &a } else { &b }, &batch(i * 50, 50, 1000)).await;
        assert_eq!(status, 202, "{body}");
    }
    b.terminate();
    let status = b.exited_within(Duration::from_secs(20)).await.expect("b stops within 20 s");
    assert!(status.success(), "b drained and exited cleanly: {status:?}");
    b.until_logged("left the cluster").await;
    let view = quiescent(&a).await;
    let total = &view["total"];
    assert_eq!(count(&total["published"]), events as u64);
    assert_eq!(count(&total["processed"]) + count(&total["failed"]), events as u64);
    assert_eq!(count(&total["redelivered"]), 0, "b finished its own work: nothing to claim: {total}");
    assert_eq!(each_at_least_once(&data, events), 0, "a planned stop processes nothing twice");
    assert_eq!(count(&total["duplicate_entries"]), 0);
    let b_row = view["nodes"].as_array().and_then(|n| n.iter().find(|n| n["name"] == "b")).expect("b listed");
    assert_eq!(b_row["status"], "left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_held_by_a_live_node_is_refused() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let _a = node(&redis, &data, "a", &[]).await;
    let dir = data.path().join("a-again");
    std::fs::create_dir_all(&dir).expect("dir");
    let mut child = std::process::Command::new(common::server_bin())
        .env("PULSE_ADDR", "127.0.0.1:0")
        .env("PULSE_DATA_DIR", &dir)
        .env("PULSE_BUS", redis.url())
        .env("PULSE_NODE_NAME", "a")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    until("the second \"a\" to exit", Duration::from_secs(20), || {
        let exited = child.try_wait().expect("wait").is_some();
        async move { exited.then_some(()) }
    })
    .await;
    let out = child.wait_with_output().expect("output");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "a second \"a\" must not start: {said}");
    assert!(said.contains("held by a live node"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_may_evict_keys_is_refused() {
    let redis = RedisServer::start().await;
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query_async(&mut redis.conn().await)
        .await
        .expect("CONFIG SET");
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = std::process::Command::new(common::server_bin())
        .env("PULSE_ADDR", "127.0.0.1:0")
        .env("PULSE_DATA_DIR", data.path())
        .env("PULSE_BUS", redis.url())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    until("the node to exit", Duration::from_secs(20), || {
        let exited = child.try_wait().expect("wait").is_some();
        async move { exited.then_some(()) }
    })
    .await;
    let out = child.wait_with_output().expect("output");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "must not start: {said}");
    assert!(said.contains("maxmemory-policy is allkeys-lru"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_backlog_bound_ingest_answers_503_with_retry_after() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    // One event a second: what is posted stays in the backlog for the whole test.
    let a = node(&redis, &data, "a", &[("PULSE_BUS_BACKLOG", "100"), ("PULSE_RATE_LIMIT_PER_S", "1")]).await;
    let (status, _, body) = post(&a, &batch(0, 80, 1000)).await;
    assert_eq!(status, 202, "{body}");
    let (status, retry, body) = post(&a, &batch(80, 80, 1000)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(body["error"].as_str().is_some_and(|e| e.contains("backlog")), "{body}");
    let view = cluster(&a).await;
    assert_eq!(count(&view["total"]["published"]), 80, "the refused batch was not added");
    assert!(count(&view["in_flight"]) <= 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_degraded_while_redis_is_down_and_recovers() {
    let mut redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let a = node(&redis, &data, "a", &[]).await;
    // Events 1..=10 of a batch whose every 1000th is invalid: all valid.
    let (status, _, _) = post(&a, &batch(1, 10, 1000)).await;
    assert_eq!(status, 202);
    let health = || async {
        let res = reqwest::get(format!("{}/healthz", a.base)).await.expect("healthz");
        (res.status().as_u16(), res.json::<Value>().await.expect("JSON"))
    };
    redis.kill();
    let why = until("/healthz to say degraded", Duration::from_secs(10), || async {
        let (status, body) = health().await;
        (status == 503).then_some(body)
    })
    .await;
    assert!(why["status"].as_str().is_some_and(|s| s.starts_with("degraded: ")), "{why}");
    let (status, _, body) = post(&a, &batch(11, 10, 1000)).await;
    assert_eq!(status, 503, "no 202 while Redis cannot confirm: {body}");
    redis.restart().await;
    until("/healthz to be ok again", Duration::from_secs(20), || async {
        (health().await.0 == 200).then_some(())
    })
    .await;
    let view = quiescent(&a).await;
    assert_eq!(count(&view["total"]["published"]), 10, "the AOF kept the first batch");
    assert_eq!(count(&view["total"]["processed"]), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_loses_no_202_and_claims_nothing() {
    redis_down_under_load(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_started_under_load_loses_no_202_and_claims_nothing() {
    redis_down_under_load(true).await;
}

/// Two slow nodes with entries pending; Redis SIGKILLed (or SIGTERMed: `graceful`) for 2 s
/// while events keep being posted, then started again on its AOF.
async fn redis_down_under_load(graceful: bool) {
    let mut redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    // Slow nodes: they still hold entries when Redis dies.
    let a = node(&redis, &data, "a", &[("PULSE_RATE_LIMIT_PER_S", "500")]).await;
    let b = node(&redis, &data, "b", &[("PULSE_RATE_LIMIT_PER_S", "500")]).await;
    let mut accepted = 0;
    for i in 0..40 {
        let (status, _, body) = post(if i % 2 == 0 { &a } else { &b }, &batch(i * 50 + 1, 50, 100_000)).await;
        assert_eq!(status, 202, "{body}");
        accepted += count(&body["accepted"]);
    }
    let pending: redis::streams::StreamPendingReply = redis::cmd("XPENDING")
        .arg("pulse:events")
        .arg("pulse")
        .query_async(&mut redis.conn().await)
        .await
        .expect("XPENDING");
    assert!(pending.count() > 0, "entries are pending when Redis dies: {pending:?}");
    if graceful {
        redis.terminate();
    } else {
        redis.kill();
    }
    let mut during = 0;
    for i in 40..60 {
        let (status, _, body) = post(if i % 2 == 0 { &a } else { &b }, &batch(i * 50 + 1, 50, 100_000)).await;
        if status == 202 {
            accepted += count(&body["accepted"]);
            during += 1;
        } else {
            assert_eq!(status, 503, "{body}");
        }
    }
    assert_eq!(during, 0, "no 202 while Redis is down");
    // The outage itself (not a wait for anything): longer than the heartbeats' 1 s TTL, so
    // every node's heartbeat has expired when Redis is back. (Nothing may be claimed then; the
    // nodes' own re-reads also reset their entries' idle times, so this alone does not prove
    // the reaper's grace: removing the grace did not make it fail.)
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.start_again().await;
    for i in 60..80 {
        let (status, _, body) = until("ingest to take events again", Duration::from_secs(20), || async {
            let (status, retry, body) =
                post(if i % 2 == 0 { &a } else { &b }, &batch(i * 50 + 1, 50, 100_000)).await;
            (status == 202).then_some((status, retry, body))
        })
        .await;
        assert_eq!(status, 202);
        accepted += count(&body["accepted"]);
    }
    let view = quiescent(&a).await;
    let total = &view["total"];
    assert_eq!(count(&total["published"]), accepted, "every 202 survived Redis' death (AOF): {total}");
    assert_eq!(count(&total["processed"]), accepted, "and was processed: {total}");
    assert_eq!(count(&total["claimed_entries"]), 0, "no node was declared dead: {total}");
    assert_eq!(view["balances"], true);
}

/// Messages buffered in `node`'s tap on `sensors.>`, if it has one.
async fn tap_buffered(node: &ServerProcess) -> Option<u64> {
    let stats = node.stats().await;
    stats.pubsub.subscribers.iter().find(|s| s.patterns == ["sensors.>"]).map(|s| s.buffered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_cross_nodes_and_local_broadcasts_stay() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let a = node(&redis, &data, "a", &[]).await;
    let b = node(&redis, &data, "b", &[]).await;
    let tap =
        [("pattern", "sensors.>"), ("capacity", "100"), ("overflow", "drop_oldest"), ("read_per_s", "0")];
    assert_eq!(b.rpc("add_tap", &tap).await, 200);
    let send = |n: &'static str, local: &'static str| {
        [("topic", "sensors.humidity"), ("count", n), ("local", local)]
    };
    assert_eq!(a.rpc("broadcast", &send("5", "false")).await, 200);
    until("b's tap to receive a's broadcast", Duration::from_secs(10), || async {
        (tap_buffered(&b).await == Some(5)).then_some(())
    })
    .await;
    // A local broadcast stays on a; the cluster one after it arrives alone (one channel, in order).
    assert_eq!(a.rpc("broadcast", &send("7", "true")).await, 200);
    assert_eq!(a.rpc("broadcast", &send("3", "false")).await, 200);
    until("b's tap to receive the second cluster broadcast", Duration::from_secs(10), || async {
        let n = tap_buffered(&b).await?;
        assert!(n <= 8, "the local broadcast crossed: {n}");
        (n == 8).then_some(())
    })
    .await;
    let (on_a, on_b) = (cluster(&a).await, cluster(&b).await);
    assert_eq!(count(&on_a["broadcast"]["sent"]), 8, "{on_a}");
    assert_eq!(count(&on_b["broadcast"]["received"]), 8, "{on_b}");
    assert_eq!(count(&on_b["broadcast"]["dropped"]), 0);
}

#[tokio::test]
async fn embedded_mode_answers_one_node() {
    let server = common::TestServer::start().await;
    let (status, _) = server.post_events(common::reading("s-1", "humidity", 40.0).to_string()).await;
    assert_eq!(status, 202);
    server.idle_stats().await;
    let view: Value = server
        .http
        .get(server.url("/api/cluster"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(view["bus"], "embedded");
    assert_eq!(view["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(view["total"]["published"], 1);
    assert_eq!(view["balances"], true);
    server.stop().await;
}
