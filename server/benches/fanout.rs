//! The live stream's fan-out: 1,000 WebSocket clients on `/ws` while the pipeline processes
//! 100,000 msg/s. Run: `cargo bench -p server --bench fanout` (`-- --quick`: 5 s baseline and
//! 10 s window instead of 10 s and 30 s; `-- --clients N` for another count). Loopback only; it
//! stops by itself.
//!
//! The server is the release `server` binary, started as a **separate process** (cargo builds
//! it with the bench and passes its path as `CARGO_BIN_EXE_server`; `PULSE_SERVER_BIN=path`
//! runs another build, e.g. to compare two versions) on a free port of
//! 127.0.0.1 with `PULSE_DATA_DIR` in a temp dir and `RUST_LOG=warn`, so its CPU (utime + stime
//! from `/proc/<pid>/stat`) and RSS (`VmRSS`) are its own; the load generator's CPU is
//! reported beside it (both share the machine's cores). The child is killed on every exit
//! path: a drop guard (panics included) and `PR_SET_PDEATHSIG` if the bench itself dies.
//!
//! Phases: the simulated publisher starts at 100,000 msg/s (1 % invalid); a **baseline** with
//! no client measures the pipeline's own cost; then the clients connect, and over the
//! **window** each one reads every frame, takes only its head (`seq`, `at_unix_ms`, `full`:
//! the fields serde writes first) and records the delivery lag (local unix ms at arrival −
//! `at_unix_ms`), full and delta frames, bytes, skipped ticks and disconnects. `/api/stats`
//! before and after each phase gives the rate the pipeline really acknowledged.
//! Goal: 1,000 clients at 10 Hz within one core (server CPU < 100 %), lag p99 < 100 ms.

// The bench starts the server as a child process it must not leak (prctl in pre_exec), signals
// it (kill) and raises its own open-files limit for 1,000 sockets (setrlimit): each use is one
// libc call with its SAFETY note. Nothing else in the workspace uses unsafe code.
#![allow(unsafe_code)]

#[path = "common/procfs.rs"]
mod procfs;

use app::model::StatsSnapshot;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use procfs::{cpu_ticks, rss_mb, ticks_per_s};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

const RATE: u64 = 100_000;
const TICK_HZ: f64 = 10.0;

/// The server as a child process; killed (and reaped) when dropped, whatever the exit path.
struct ServerProcess {
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    fn start(addr: &str, data: &Path) -> anyhow::Result<Self> {
        let log = data.join("server.log");
        let bin = std::env::var_os("PULSE_SERVER_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_server").into());
        let mut cmd = Command::new(bin);
        cmd.env("PULSE_ADDR", addr)
            .env("PULSE_DATA_DIR", data.join("data"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(data.join("server.err"))?);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL the child when
        // this (spawning, main) thread dies, so a bench killed by a signal leaves no server.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(Self { child: cmd.spawn()?, log })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn output(&self) -> String {
        let err = self.log.with_file_name("server.err");
        format!(
            "{}{}",
            std::fs::read_to_string(&self.log).unwrap_or_default(),
            std::fs::read_to_string(err).unwrap_or_default()
        )
    }

    /// SIGTERM (the server drains), then at most 15 s before the drop guard's SIGKILL.
    fn stop(mut self) {
        // SAFETY: sending a signal to our own child's pid has no memory-safety preconditions.
        unsafe { libc::kill(self.pid() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("server did not stop within 15 s of SIGTERM: killing it");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Raises the open-files soft limit to `want` (at most the hard limit).
fn raise_open_files(want: u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: get/setrlimit read and write the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// What a client needs of a frame: its first fields (postcard is positional, so they can be
/// read off the front without decoding the rest).
#[derive(serde::Deserialize)]
struct Head {
    seq: u64,
    at_unix_ms: u64,
    full: bool,
}

/// Reads the head off the frame's first bytes.
fn head(frame: &[u8]) -> Option<Head> {
    postcard::take_from_bytes::<Head>(frame).ok().map(|(head, _)| head)
}

/// Phases the clients see: frames are recorded only during the window.
const WARMUP: u8 = 0;
const WINDOW: u8 = 1;
const DONE: u8 = 2;

/// One client's record of the window.
#[derive(Default)]
struct Tally {
    connected: bool,
    frames: u64,
    full: (u64, u64),
    delta: (u64, u64),
    /// Ticks skipped between consecutive frames (the server then sends a full frame).
    skipped: u64,
    /// The socket ended during the window.
    disconnected: bool,
    lags_ms: Vec<u32>,
    /// The first delta frame of the window, kept by the first client to see one (its size is
    /// broken down in the report).
    sample: Option<Vec<u8>>,
}

async fn client(
    url: String,
    connects: Arc<Semaphore>,
    connected: Arc<AtomicUsize>,
    phase: Arc<AtomicU8>,
    stop: CancellationToken,
    keep_sample: bool,
) -> Tally {
    let mut t = Tally::default();
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let ws = {
        let _permit = connects.acquire().await;
        tokio_tungstenite::connect_async_with_config(url, Some(config), true).await
    };
    let Ok((mut ws, _)) = ws else { return t };
    t.connected = true;
    connected.fetch_add(1, Ordering::Relaxed);
    let mut last_seq: Option<u64> = None;
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            () = stop.cancelled() => break,
        };
        let arrived = unix_ms();
        let frame = match msg {
            Some(Ok(Message::Binary(frame))) => frame,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => {
                t.disconnected = phase.load(Ordering::Relaxed) == WINDOW;
                return t;
            }
        };
        let Some(h) = head(&frame) else { continue };
        if phase.load(Ordering::Relaxed) == WINDOW {
            t.frames += 1;
            let kind = if h.full { &mut t.full } else { &mut t.delta };
            kind.0 += 1;
            kind.1 += frame.len() as u64;
            if let Some(prev) = last_seq {
                t.skipped += h.seq.saturating_sub(prev + 1);
            }
            t.lags_ms.push(arrived.saturating_sub(h.at_unix_ms) as u32);
            if keep_sample && !h.full && t.sample.is_none() {
                t.sample = Some(frame.to_vec());
            }
        }
        last_seq = Some(h.seq);
    }
    let _ = ws.close(None).await;
    t
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn stats(&self) -> anyhow::Result<StatsSnapshot> {
        Ok(self.http.get(format!("{}/api/stats", self.base)).send().await?.error_for_status()?.json().await?)
    }

    async fn rpc(&self, endpoint: &str, form: &[(&str, &str)]) -> anyhow::Result<()> {
        let res = self.http.post(format!("{}/rpc/{endpoint}", self.base)).form(form).send().await?;
        anyhow::ensure!(res.status().is_success(), "{endpoint}: {}", res.status());
        Ok(())
    }
}

/// What one phase measured.
struct Phase {
    seconds: f64,
    server_cpu_pct: f64,
    bench_cpu_pct: f64,
    rss_peak_mb: f64,
    published_per_s: f64,
    acked_per_s: f64,
    dropped: u64,
}

/// Measures `secs` of whatever is running: CPU of both processes, server RSS every 250 ms, the
/// pipeline's rates. With `window`, the clients record frames between the CPU readings.
async fn measure(api: &Api, pid: &str, secs: u64, window: Option<&AtomicU8>) -> anyhow::Result<Phase> {
    let s0 = api.stats().await?;
    let (c0, b0, t0) = (cpu_ticks(pid), cpu_ticks("self"), Instant::now());
    if let Some(w) = window {
        w.store(WINDOW, Ordering::Relaxed);
    }
    let mut rss_peak = rss_mb(pid);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    while t0.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        rss_peak = rss_peak.max(rss_mb(pid));
    }
    if let Some(w) = window {
        w.store(DONE, Ordering::Relaxed);
    }
    let (c1, b1, seconds) = (cpu_ticks(pid), cpu_ticks("self"), t0.elapsed().as_secs_f64());
    let s1 = api.stats().await?;
    let pct = |ticks: u64| ticks as f64 / ticks_per_s() / seconds * 100.0;
    let acked = (s1.processed + s1.failed).saturating_sub(s0.processed + s0.failed);
    Ok(Phase {
        seconds,
        server_cpu_pct: pct(c1.saturating_sub(c0)),
        bench_cpu_pct: pct(b1.saturating_sub(b0)),
        rss_peak_mb: rss_peak,
        published_per_s: s1.published.saturating_sub(s0.published) as f64 / seconds,
        acked_per_s: acked as f64 / seconds,
        dropped: s1.dropped.saturating_sub(s0.dropped),
    })
}

struct Report {
    idle_rss_mb: f64,
    baseline: Phase,
    before_clients_rss_mb: f64,
    window: Phase,
    tallies: Vec<Tally>,
}

async fn run(server: &ServerProcess, addr: &str, clients: usize, quick: bool) -> anyhow::Result<Report> {
    let (baseline_s, window_s) = if quick { (5, 10) } else { (10, 30) };
    let pid = server.pid().to_string();
    let api = Api { http: reqwest::Client::new(), base: format!("http://{addr}") };
    let ready = Instant::now();
    while api.stats().await.is_err() {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(15) && std::fs::metadata(format!("/proc/{pid}")).is_ok(),
            "the server did not answer within 15 s:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss_mb = rss_mb(&pid);
    api.rpc("start_simulator", &[("rate_per_s", &RATE.to_string()), ("invalid_pct", "1")]).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let baseline = measure(&api, &pid, baseline_s, None).await?;
    let before_clients_rss_mb = rss_mb(&pid);

    let (phase, stop) = (Arc::new(AtomicU8::new(WARMUP)), CancellationToken::new());
    let (connects, connected) = (Arc::new(Semaphore::new(50)), Arc::new(AtomicUsize::new(0)));
    let url = format!("ws://{addr}/ws");
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (c, n, p, s) = (connects.clone(), connected.clone(), phase.clone(), stop.clone());
            tokio::spawn(client(url.clone(), c, n, p, s, i == 0))
        })
        .collect();
    let opening = Instant::now();
    while connected.load(Ordering::Relaxed) < clients && opening.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{} of {clients} clients connected in {:.1} s",
        connected.load(Ordering::Relaxed),
        opening.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let window = measure(&api, &pid, window_s, Some(&phase)).await;
    stop.cancel();
    let mut tallies = Vec::with_capacity(clients);
    for t in tasks {
        tallies.push(t.await.unwrap_or_default());
    }
    let window = window?;
    api.rpc("stop_simulator", &[]).await?;
    Ok(Report { idle_rss_mb, baseline, before_clients_rss_mb, window, tallies })
}

fn print(r: &Report, clients: usize, server_pid: u32) {
    let (b, w) = (&r.baseline, &r.window);
    let mut lags = Histogram::<u64>::new_with_bounds(1, 3_600_000, 3).expect("histogram bounds are valid");
    let mut per_client_hz: Vec<f64> = Vec::with_capacity(r.tallies.len());
    let (mut frames, mut full, mut delta, mut skipped) = (0, (0, 0), (0, 0), 0);
    for t in r.tallies.iter().filter(|t| t.connected) {
        for &l in &t.lags_ms {
            lags.saturating_record(u64::from(l).max(1));
        }
        per_client_hz.push(t.frames as f64 / w.seconds);
        frames += t.frames;
        full = (full.0 + t.full.0, full.1 + t.full.1);
        delta = (delta.0 + t.delta.0, delta.1 + t.delta.1);
        skipped += t.skipped;
    }
    per_client_hz.sort_by(f64::total_cmp);
    let hz =
        |q: f64| per_client_hz.get(((per_client_hz.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0.0);
    let connected = per_client_hz.len();
    let disconnects = r.tallies.iter().filter(|t| t.disconnected).count();
    let mean = |(n, bytes): (u64, u64)| if n == 0 { 0.0 } else { bytes as f64 / n as f64 };
    let (p50, p99, max) = (lags.value_at_quantile(0.5), lags.value_at_quantile(0.99), lags.max());
    let frames_per_s = frames as f64 / w.seconds;

    println!("\n## WebSocket fan-out: {clients} clients, simulated publisher at {RATE} msg/s\n");
    println!(
        "Server: release binary, separate process (pid {server_pid}); RSS idle (no load, no client) {:.1} MB.\n",
        r.idle_rss_mb
    );
    println!(
        "| phase | clients | pipeline published / acked msg/s | frames/s delivered | per-client Hz min / median | lag p50 / p99 / max | server CPU | server RSS | load generator CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| baseline ({:.0} s) | 0 | {:.0} / {:.0} | – | – | – | {:.1} % | peak {:.1} MB | {:.1} % |",
        b.seconds, b.published_per_s, b.acked_per_s, b.server_cpu_pct, b.rss_peak_mb, b.bench_cpu_pct
    );
    println!(
        "| fan-out ({:.0} s) | {connected} | {:.0} / {:.0} | {frames_per_s:.0} | {:.2} / {:.2} | {p50} / {p99} / {max} ms | {:.1} % | {:.1} MB before clients, peak {:.1} MB | {:.1} % |",
        w.seconds,
        w.published_per_s,
        w.acked_per_s,
        hz(0.0),
        hz(0.5),
        w.server_cpu_pct,
        r.before_clients_rss_mb,
        w.rss_peak_mb,
        w.bench_cpu_pct
    );
    println!(
        "\nFrames in the window: {} delta (mean {:.0} B), {} full (mean {:.0} B); {:.2} MB/s sent in all; ticks skipped {skipped}; disconnects {disconnects}; failed connects {}; dropped by the pipeline: {} (baseline), {} (window).",
        delta.0,
        mean(delta),
        full.0,
        mean(full),
        (full.1 + delta.1) as f64 / w.seconds / 1e6,
        clients - connected,
        b.dropped,
        w.dropped
    );
    if let Some(sample) = r.tallies.iter().find_map(|t| t.sample.as_deref()) {
        println!("{}", frame_breakdown(sample));
    }
    println!(
        "Fan-out's own cost: {:+.1} % of a core, {:+.1} MB RSS ({:.1} KB per client).",
        w.server_cpu_pct - b.server_cpu_pct,
        w.rss_peak_mb - r.before_clients_rss_mb,
        (w.rss_peak_mb - r.before_clients_rss_mb) * 1024.0 / clients.max(1) as f64
    );
    let pipeline_ok = w.acked_per_s >= 0.95 * RATE as f64;
    let rate_ok = hz(0.0) >= 0.95 * TICK_HZ && connected == clients && disconnects == 0;
    let met = pipeline_ok && rate_ok && w.server_cpu_pct < 100.0 && p99 < 100;
    println!(
        "\nVerdict: goal {} — {connected} clients at {:.1} Hz (min {:.1}), server CPU {:.0} % of one core (< 100 %), lag p99 {p99} ms (< 100 ms), pipeline {:.0} msg/s (≥ 95,000).",
        if met { "MET" } else { "NOT MET" },
        hz(0.5),
        hz(0.0),
        w.server_cpu_pct,
        w.acked_per_s
    );
}

/// Where a delta frame's bytes go: the stats (and its largest parts), history and feed, each
/// re-encoded on its own; and what the same frame would weigh as JSON.
fn frame_breakdown(bytes: &[u8]) -> String {
    let Ok(frame) = app::model::wire::decode::<app::model::LiveFrame>(bytes) else { return String::new() };
    let size = |v: &dyn erased::Encode| v.encoded_len();
    let s = &frame.stats;
    let mut stats_parts: Vec<(usize, &str)> = vec![
        (size(&s.pipeline), "pipeline"),
        (size(&s.pubsub), "pubsub"),
        (size(&s.kinds), "kinds"),
        (size(&s.failure_reasons), "failure_reasons"),
        (size(&s.drop_reasons), "drop_reasons"),
        (size(&s.simulator), "simulator"),
    ];
    stats_parts.sort_by(|a, b| b.cmp(a));
    let top: Vec<String> = stats_parts.iter().map(|(n, k)| format!("{k} {n} B")).collect();
    let json = serde_json::to_vec(&frame).map_or(0, |j| j.len());
    format!(
        "A delta frame: {} B = stats {} B ({}, …) + history {} B ({} items) + feed {} B ({} items); as JSON it would be {json} B.",
        bytes.len(),
        size(s),
        top.join(", "),
        size(&frame.history),
        frame.history.len(),
        size(&frame.feed),
        frame.feed.len(),
    )
}

/// Encoded size of any part of a frame.
mod erased {
    pub(crate) trait Encode {
        fn encoded_len(&self) -> usize;
    }
    impl<T: serde::Serialize> Encode for T {
        fn encoded_len(&self) -> usize {
            app::model::wire::encode(self).map_or(0, |b| b.len())
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let clients = args
        .iter()
        .position(|a| a == "--clients")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000usize);
    raise_open_files(2 * clients as u64 + 1_024);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let temp = tempfile::tempdir()?;
    let server = ServerProcess::start(&addr, temp.path())?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let report = rt.block_on(run(&server, &addr, clients, quick));
    let pid = server.pid();
    server.stop();
    drop(rt);
    print(&report?, clients, pid);
    Ok(())
}
