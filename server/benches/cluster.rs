//! Cluster throughput (issue 14): the simulator inside each node (the engine's pub/sub-fed
//! shape, offered 2,000,000 readings/s in all, 1 % invalid, its excess dropped and counted),
//! embedded against the Redis bus with 1, 2 and 3 nodes. Redis runs on core 0 and the nodes on
//! core 1 when `taskset` is there (Redis is single-threaded: on two cores nodes cannot scale
//! through it, so this measures the coordination cost and prints CPU per event, not only
//! rates). AOF everysec, automatic rewrites off. Then publish→ack p50/p99 of one node at a
//! steady 10,000 readings/s, embedded and redis (in redis mode from the entry's `XADD`, by its
//! id's timestamp). Interleaved runs, medians [range]. Batch entries are the simulator's
//! slices (one publish per 10 ms tick, split at `--bus-entry-max`, 1,000); the "1 event per
//! entry" rows set `--bus-entry-max 1`.
//! Run: `cargo bench -p server --bench cluster` (`-- --quick`: 1 run of 2 s per row). Needs
//! Debian's `redis-server`; without it the bench says so and stops.

#[path = "common/procfs.rs"]
mod procfs;

use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OFFERED: u32 = 2_000_000;
/// The steady rate publish→ack latency is read at.
const STEADY: u32 = 10_000;

/// `taskset -c <core>` before `program`, when taskset exists.
fn pinned(core: &str, program: &str) -> Command {
    if Command::new("taskset").arg("--version").output().is_ok() {
        let mut c = Command::new("taskset");
        c.args(["-c", core, program]);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port()
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.expect("request").json().await.expect("JSON")
}

/// Events with a final outcome so far, cluster-wide (redis) or on the one node (embedded).
async fn finished(http: &reqwest::Client, base: &str, redis: bool) -> u64 {
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
    if redis {
        let v = get(http, format!("{base}/api/cluster")).await;
        n(&v["total"], "processed") + n(&v["total"], "failed")
    } else {
        let v = get(http, format!("{base}/api/stats")).await;
        n(&v, "processed") + n(&v, "failed")
    }
}

fn redis_cpu_s(port: u16) -> f64 {
    let out =
        Command::new("redis-cli").args(["-p", &port.to_string(), "info", "cpu"]).output().expect("redis-cli");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field =
        |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).and_then(|v| v.trim().parse::<f64>().ok());
    field("used_cpu_user:").unwrap_or(0.0) + field("used_cpu_sys:").unwrap_or(0.0)
}

/// A bench row: its name, nodes, redis or embedded, the nodes' extra settings.
type Row<'a> = (&'a str, usize, bool, &'a [(&'a str, &'a str)]);

/// What one run measured.
#[derive(Clone, Copy)]
struct Figures {
    events_per_s: f64,
    node_us: f64,
    redis_us: f64,
    /// The first node's publish→ack p50 / p99 over its latency window, in ms.
    ack_p50_ms: f64,
    ack_p99_ms: f64,
}

/// One run: `nodes` nodes, their simulators offering `offered` readings/s in all.
async fn run(nodes: usize, redis: bool, env: &[(&str, &str)], offered: u32, window: Duration) -> Figures {
    let dir = tempfile::tempdir().expect("temp dir");
    let rport = free_port();
    let mut redis_child: Option<Child> = redis.then(|| {
        pinned("0", "redis-server")
            .args(["--port", &rport.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "everysec", "--auto-aof-rewrite-percentage", "0"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server")
    });
    while redis
        && Command::new("redis-cli")
            .args(["-p", &rport.to_string(), "ping"])
            .output()
            .map_or(true, |o| !o.stdout.starts_with(b"PONG"))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let bin = std::env::var_os("PULSE_TEST_SERVER").unwrap_or_else(|| env!("CARGO_BIN_EXE_server").into());
    let http = reqwest::Client::new();
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for i in 0..nodes {
        let port = free_port();
        let mut cmd = pinned("1", bin.to_str().expect("UTF-8 path"));
        cmd.env("PULSE_ADDR", format!("127.0.0.1:{port}"))
            .env("PULSE_DATA_DIR", dir.path().join(format!("n{i}")))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if redis {
            cmd.env("PULSE_BUS", format!("redis://127.0.0.1:{rport}"))
                .env("PULSE_NODE_NAME", format!("n{i}"))
                .envs(env.iter().copied());
        }
        children.push(cmd.spawn().expect("server"));
        let base = format!("http://127.0.0.1:{port}");
        while http.get(format!("{base}/healthz")).send().await.map_or(true, |r| !r.status().is_success()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bases.push(base);
    }
    let rate = (offered / nodes as u32).to_string();
    for base in &bases {
        let form = [("rate_per_s", rate.as_str()), ("invalid_pct", "1")];
        let res = http.post(format!("{base}/rpc/start_simulator")).form(&form).send().await.expect("rpc");
        assert!(res.status().is_success(), "start_simulator: {}", res.status());
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    let pids: Vec<String> = children.iter().map(|c| c.id().to_string()).collect();
    let ticks = || pids.iter().map(|p| procfs::cpu_ticks(p)).sum::<u64>();
    let (e0, t0, r0, at0) =
        (finished(&http, &bases[0], redis).await, ticks(), redis.then(|| redis_cpu_s(rport)), Instant::now());
    tokio::time::sleep(window).await;
    let (e1, t1, r1) = (finished(&http, &bases[0], redis).await, ticks(), redis.then(|| redis_cpu_s(rport)));
    let secs = at0.elapsed().as_secs_f64();
    let stats = get(&http, format!("{}/api/stats", bases[0])).await;
    let ack = &stats["pipeline"]["ack_latency"];
    let ms = |k: &str| ack[k].as_f64().unwrap_or(f64::NAN) / 1000.0;
    let (ack_p50_ms, ack_p99_ms) = (ms("p50_us"), ms("p99_us"));
    for c in &children {
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
    }
    for mut c in children {
        let _ = c.wait();
    }
    if let Some(mut r) = redis_child.take() {
        let _ = r.kill();
        let _ = r.wait();
    }
    let events = (e1 - e0).max(1) as f64;
    let node_us = (t1 - t0) as f64 / procfs::ticks_per_s() * 1e6 / events;
    let redis_us = r0.zip(r1).map_or(f64::NAN, |(a, b)| (b - a) * 1e6 / events);
    Figures { events_per_s: events / secs, node_us, redis_us, ack_p50_ms, ack_p99_ms }
}

fn median_range(v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    let f = |x: f64| {
        if x.is_nan() {
            "—".to_owned()
        } else if x >= 1000.0 {
            format!("{:.0}k", x / 1000.0)
        } else {
            format!("{x:.2}")
        }
    };
    format!("{} [{}–{}]", f(v[v.len() / 2]), f(v[0]), f(v[v.len() - 1]))
}

fn main() {
    if Command::new("redis-server").arg("--version").output().is_err() {
        println!("cluster bench: redis-server is not installed (apt-get install redis-server); skipped");
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, window) = if quick { (1, Duration::from_secs(2)) } else { (5, Duration::from_secs(5)) };
    // One event per entry: each entry is read, tracked and acknowledged on its own (the cost
    // per entry, undiluted); read-ahead 256 entries so a read still fetches a useful amount.
    let single: &[(&str, &str)] = &[("PULSE_BUS_ENTRY_MAX", "1"), ("PULSE_BUS_READ_AHEAD", "256")];
    let rows: [Row; 7] = [
        ("embedded, 1 node", 1, false, &[]),
        ("redis, 1 node", 1, true, &[]),
        ("redis, 2 nodes", 2, true, &[]),
        ("redis, 3 nodes", 3, true, &[]),
        ("redis, 1 node, 1 event per entry", 1, true, single),
        ("redis, 2 nodes, 1 event per entry", 2, true, single),
        ("redis, 3 nodes, 1 event per entry", 3, true, single),
    ];
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let mut results: Vec<Vec<Figures>> = vec![Vec::new(); rows.len()];
    let mut latency: Vec<Vec<Figures>> = vec![Vec::new(); 2];
    for _ in 0..runs {
        for (i, (_, nodes, redis, env)) in rows.iter().enumerate() {
            results[i].push(runtime.block_on(run(*nodes, *redis, env, OFFERED, window)));
        }
        for (i, redis) in [false, true].into_iter().enumerate() {
            latency[i].push(runtime.block_on(run(1, redis, &[], STEADY, window)));
        }
    }
    println!(
        "| run (simulator in the nodes, {OFFERED} offered/s) | events/s | node CPU µs/event | Redis CPU µs/event |"
    );
    println!("|---|---|---|---|");
    for ((name, _, _, _), r) in rows.iter().zip(&results) {
        let col = |k: fn(&Figures) -> f64| median_range(&mut r.iter().map(k).collect::<Vec<_>>());
        println!(
            "| {name} | {} | {} | {} |",
            col(|x| x.events_per_s),
            col(|x| x.node_us),
            col(|x| x.redis_us)
        );
    }
    println!();
    println!("| 1 node at a steady {STEADY} readings/s | publish→ack p50 ms | p99 ms |");
    println!("|---|---|---|");
    for (name, r) in ["embedded", "redis"].iter().zip(&latency) {
        let col = |k: fn(&Figures) -> f64| median_range(&mut r.iter().map(k).collect::<Vec<_>>());
        println!("| {name} | {} | {} |", col(|x| x.ack_p50_ms), col(|x| x.ack_p99_ms));
    }
}
