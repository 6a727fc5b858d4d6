//! The dashboard's own cost: `cargo bench -p server --bench dashboard` (`-- --quick` for
//! 5 s phases).
//!
//! Starts Pulse on 127.0.0.1:0 in this process (its own runtime, like the binary), feeds the
//! pipeline 10,000 msg/s over HTTP, and measures the server's CPU (process CPU from
//! `/proc/self/stat` minus the load clients' threads, from `/proc/self/task/*/stat`) first with
//! no dashboard open, then with 10 simulated dashboards doing what the page does at a 1 s
//! refresh: one server-rendered `/dashboard?tab=metrics`, then one `poll_dashboard` per second
//! asking for rows and log lines after the last ones it has. Then it fills a history ring and a
//! log tail to capacity and reports their memory: computed from their fixed sizes, and the RSS
//! they added.

#[path = "common/procfs.rs"]
mod procfs;

use app::model::catalogue::row_width;
use app::model::{HISTORY_ROWS, LOG_LINES, LogLevel, LogLine};
use procfs::{stat, ticks_per_s};
use pulse_server::ServerConfig;
use pulse_server::observe::history::History;
use pulse_server::observe::logs::{LogTail, MAX_MESSAGE};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const CLIENT_THREAD: &str = "bench-client";

/// CPU ticks of the whole process and of the load clients' threads.
fn cpu() -> (u64, u64) {
    let total = stat("/proc/self/stat").map_or(0, |s| s.1);
    let clients = std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|t| stat(&format!("{}/stat", t.path().display())))
                .filter(|(name, _)| name == CLIENT_THREAD)
                .map(|(_, t)| t)
                .sum()
        })
        .unwrap_or(0);
    (total, clients)
}

/// Server CPU over `secs`, in percent of one core.
async fn measure(secs: u64) -> f64 {
    let (t0, c0) = cpu();
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (t1, c1) = cpu();
    let server = (t1 - t0).saturating_sub(c1 - c0) as f64 / ticks_per_s();
    server / start.elapsed().as_secs_f64() * 100.0
}

/// One simulated dashboard: the first paint, then a poll a second until `stop`.
async fn dashboard(http: reqwest::Client, base: String, stop: CancellationToken) -> u64 {
    let page =
        http.get(format!("{base}/dashboard?tab=metrics")).send().await.and_then(|r| r.error_for_status());
    if let Err(e) = page.as_ref().map(|r| r.status()) {
        eprintln!("first paint failed: {e}");
    }
    let (mut since, mut log_since, mut polls) = (0u64, 0u64, 0u64);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return polls,
        }
        let form =
            [("since", since.to_string()), ("log_since", log_since.to_string()), ("level", "info".into())];
        let Ok(res) = http.post(format!("{base}/rpc/poll_dashboard")).form(&form).send().await else {
            continue;
        };
        let Ok(body) = res.json::<app::model::DashboardUpdate>().await else { continue };
        since = body.rows.last().map_or(since, |r| r.seq);
        log_since = body.log_seq;
        polls += 1;
    }
}

/// 10,000 readings a second: 100 every 10 ms.
async fn load(http: reqwest::Client, base: String, stop: CancellationToken) {
    let body = serde_json::to_string(
        &(0..100)
            .map(|i| serde_json::json!({"sensor": format!("b{i}"), "kind": "humidity", "value": 50.0}))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while !stop.is_cancelled() {
        tick.tick().await;
        let _ = http
            .post(format!("{base}/api/events"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
    }
}

/// What the sampler does besides the stats snapshot (which the WebSocket reporter takes ten
/// times a second anyway): the `/proc` reads and a history row. Microseconds per sample.
fn sampler_cost_us() -> f64 {
    let mut system = pulse_server::observe::system::SystemSampler::new(".".into());
    let history = History::new(HISTORY_ROWS);
    let n = 2_000;
    let started = Instant::now();
    for i in 0..n {
        let info = system.sample();
        history.push(i, vec![info.cpu_pct; row_width()]);
    }
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// Messages acknowledged so far, from `/api/stats`.
async fn acked(http: &reqwest::Client, base: &str) -> f64 {
    let Ok(res) = http.get(format!("{base}/api/stats")).send().await else { return 0.0 };
    let s: serde_json::Value = res.json().await.unwrap_or_default();
    s["processed"].as_f64().unwrap_or(0.0) + s["failed"].as_f64().unwrap_or(0.0)
}

fn memory() {
    let before = procfs::rss_kb("self");
    let history = History::new(HISTORY_ROWS);
    for i in 0..HISTORY_ROWS as u64 * 2 {
        history.push(i, vec![i as f64; row_width()]);
    }
    let after_history = procfs::rss_kb("self");
    let tail = LogTail::new(LOG_LINES);
    for i in 0..LOG_LINES * 2 {
        let message = format!("request failed method=GET path=/api/missing-{i} status=404 ms=0.12");
        tail.push(LogLine { seq: 0, t_ms: 0, level: LogLevel::Info, target: "pulse::http".into(), message });
    }
    let after_tail = procfs::rss_kb("self");
    let computed = history.full_size_bytes();
    let tail_bound = LOG_LINES * (std::mem::size_of::<LogLine>() + MAX_MESSAGE + 64);
    println!(
        "| history ring ({HISTORY_ROWS} rows × {} values) | {:.0} KiB computed | {} KiB RSS added |",
        row_width(),
        computed as f64 / 1024.0,
        after_history.saturating_sub(before)
    );
    println!(
        "| log tail ({LOG_LINES} lines, typical ~90 B message) | ≤ {:.0} KiB bound (1 KiB messages) | {} KiB RSS added |",
        tail_bound as f64 / 1024.0,
        after_tail.saturating_sub(after_history)
    );
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (baseline_s, dash_s) = if quick { (5, 5) } else { (10, 30) };
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(CLIENT_THREAD)
        .enable_all()
        .build()?;
    let shutdown = CancellationToken::new();
    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = server_rt.spawn(pulse_server::run(ServerConfig::default(), listener, shutdown.clone()));
    let (idle, with_dashboards, polls, rate) = client_rt.block_on(async {
        let http = reqwest::Client::new();
        let stop = CancellationToken::new();
        tokio::spawn(load(http.clone(), base.clone(), stop.clone()));
        tokio::time::sleep(Duration::from_secs(2)).await;
        let a0 = acked(&http, &base).await;
        let idle = measure(baseline_s).await;
        let rate = (acked(&http, &base).await - a0) / baseline_s as f64;
        let dashboards: Vec<_> = (0..10)
            .map(|_| tokio::spawn(dashboard(reqwest::Client::new(), base.clone(), stop.clone())))
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let with = measure(dash_s).await;
        stop.cancel();
        let mut polls = 0;
        for d in dashboards {
            polls += d.await.unwrap_or(0);
        }
        (idle, with, polls, rate)
    });
    shutdown.cancel();
    let _ = server_rt.block_on(server);
    println!("| what | figure |\n|---|---|");
    println!(
        "| server CPU, load of {rate:.0} msg/s, no dashboard ({baseline_s} s) | {idle:.1} % of a core |"
    );
    println!(
        "| server CPU, same load + 10 dashboards at 1 s ({dash_s} s, {polls} polls) | {with_dashboards:.1} % of a core |"
    );
    println!("| the dashboards' share | {:.1} % of a core |", (with_dashboards - idle).max(0.0));
    memory();
    let us = sampler_cost_us();
    println!(
        "| the 1 s sampler's own work (/proc reads + a row; snapshot excluded) | {us:.0} µs a sample = {:.3} % of a core |",
        us / 1e4
    );
    Ok(())
}
