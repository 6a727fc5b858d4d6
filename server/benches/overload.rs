//! Memory under a sustained 4× overload: the server's real intake paths pushed at four times
//! what the pipeline takes, while the process's RSS is sampled every second.
//! Run: `cargo bench -p server --bench overload` (`-- --quick`: 5 s phases instead of 30 s).
//! Loopback only; it stops by itself.
//!
//! The pipeline's capacity is pinned with its own rate limit (100,000 msg/s), so "4×" is exact
//! on any machine: the simulated publisher offers 400,000 readings/s (its excess is counted as
//! dropped) and two HTTP clients post batches of 100 as fast as they are answered (202, or
//! 503 + Retry-After once the buffer is full). Broadway's PubSub-fed design, measured the same
//! way on this machine kind, grew to 6.9 GB; Pulse's bound is its buffers: the pipeline's
//! subscription (65,536 readings), the processors' demand, the batcher's batches and the
//! retry queue (bounded), whatever the offered rate.

#[path = "common/procfs.rs"]
mod procfs;

use app::model::StatsSnapshot;
use pulse_server::ServerConfig;
use pulse_server::pipeline::RateLimit;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const CAPACITY: u64 = 100_000;

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn rpc(&self, endpoint: &str, form: &[(&str, &str)]) {
        let res = self.http.post(format!("{}/rpc/{endpoint}", self.base)).form(form).send().await;
        let ok = res.as_ref().is_ok_and(|r| r.status().is_success());
        assert!(ok, "{endpoint} failed: {res:?}");
    }

    async fn stats(&self) -> StatsSnapshot {
        let res = self.http.get(format!("{}/api/stats", self.base)).send().await.expect("stats");
        res.json().await.expect("stats JSON")
    }
}

/// Posts batches of 100 until `stop`; counts 202 and 503 answers.
async fn poster(
    client: Arc<Client>,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
) {
    let body = serde_json::Value::Array(
        (0..100)
            .map(|i| serde_json::json!({"sensor": format!("h-{i}"), "kind": "humidity", "value": 40.0}))
            .collect(),
    )
    .to_string();
    while !stop.load(Ordering::Relaxed) {
        let res = client
            .http
            .post(format!("{}/api/events", client.base))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match res.map(|r| r.status().as_u16()) {
            Ok(202) => accepted.fetch_add(100, Ordering::Relaxed),
            Ok(503) => refused.fetch_add(100, Ordering::Relaxed),
            other => panic!("unexpected answer: {other:?}"),
        };
    }
}

struct Phase {
    name: &'static str,
    offered: u64,
    seconds: u64,
    rss: Vec<f64>,
    processed_per_s: f64,
    http: (u64, u64),
}

async fn phase(client: &Arc<Client>, name: &'static str, offered: u64, seconds: u64, http: bool) -> Phase {
    let before = client.stats().await;
    client.rpc("start_simulator", &[("rate_per_s", &offered.to_string()), ("invalid_pct", "5")]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (accepted, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let posters: Vec<_> = (0..if http { 2 } else { 0 })
        .map(|_| tokio::spawn(poster(client.clone(), stop.clone(), accepted.clone(), refused.clone())))
        .collect();
    let started = Instant::now();
    let mut rss = Vec::new();
    for _ in 0..seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.push(procfs::rss_mb("self"));
    }
    stop.store(true, Ordering::Relaxed);
    for p in posters {
        p.await.expect("poster");
    }
    client.rpc("stop_simulator", &[]).await;
    let after = client.stats().await;
    let acked = (after.processed + after.failed) - (before.processed + before.failed);
    Phase {
        name,
        offered,
        seconds,
        rss,
        processed_per_s: acked as f64 / started.elapsed().as_secs_f64(),
        http: (accepted.load(Ordering::Relaxed), refused.load(Ordering::Relaxed)),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let seconds = if quick { 5 } else { 30 };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = ServerConfig { data_dir: data.path().to_path_buf(), ..ServerConfig::default() };
        config.pipeline.rate_limit = Some(RateLimit { allowed_messages: CAPACITY / 10, interval: Duration::from_millis(100) });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(pulse_server::run(config, listener, shutdown.clone()));
        let client = Arc::new(Client { http: reqwest::Client::new(), base });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle = procfs::rss_mb("self");
        let phases = [
            phase(&client, "1× (at capacity)", CAPACITY, seconds / 3, false).await,
            phase(&client, "4× overload (simulator + 2 HTTP clients)", 4 * CAPACITY, seconds, true).await,
        ];
        // Let the pipeline work through its buffer, then check the ledger.
        let mut last = client.stats().await;
        for _ in 0..100 {
            if last.in_flight == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            last = client.stats().await;
        }
        shutdown.cancel();
        let _ = server.await;
        println!("\n## Memory under overload (pipeline capacity pinned at {CAPACITY} msg/s by its rate limit)\n");
        println!("Idle server: {idle:.1} MB RSS.\n");
        println!("| phase | offered msg/s | processed msg/s | HTTP 202 / 503 (readings) | RSS min | RSS max | RSS last |");
        println!("|---|---|---|---|---|---|---|");
        for p in &phases {
            let min = p.rss.iter().copied().fold(f64::INFINITY, f64::min);
            let max = p.rss.iter().copied().fold(0.0, f64::max);
            println!(
                "| {} ({} s) | {} | {:.0} | {} / {} | {min:.1} MB | {max:.1} MB | {:.1} MB |",
                p.name,
                p.seconds,
                p.offered,
                p.processed_per_s,
                p.http.0,
                p.http.1,
                p.rss.last().copied().unwrap_or(f64::NAN)
            );
        }
        let series: Vec<String> = phases[1].rss.iter().map(|r| format!("{r:.0}")).collect();
        println!("\nRSS each second of the overload (MB): {}", series.join(" "));
        println!(
            "\nLedger after the run: published {} = processed {} + failed {} + dropped {} + in flight {} ({}).",
            last.published,
            last.processed,
            last.failed,
            last.dropped,
            last.in_flight,
            if last.balances() { "balances" } else { "DOES NOT BALANCE" }
        );
        for r in &last.drop_reasons {
            println!("- dropped, {}: {}", r.reason, r.count);
        }
    });
}
