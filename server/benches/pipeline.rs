//! The engine benchmark, the same shape as the Broadway reference measured on this machine kind
//! (`docs/performance.md`), so the figures compare. Run: `cargo bench -p server --bench pipeline`
//! (`-- --quick` for one run per row). Prints a markdown table of medians over 5 interleaved runs.
//!
//! 1. Pipeline only: 2,000,000 small readings built on demand by the producer; 2 processors
//!    validate and add a field (1 % fail validation); one batcher (100 / 50 ms) whose handler
//!    counts; an acknowledger counts ok / failed. Time from start (first demand) to the last
//!    ack; peak RSS of the run (VmHWM, reset before each run).
//! 2. Pub/sub fed: a publisher task → `PubSub` → `PubSubProducer` → the same pipeline;
//!    2,000,000 messages published in chunks of 100, and one at a time.
//! 3. Controls' cost: the pipeline-only shape with a retry policy (the 1 % that fail are
//!    retried twice, 1 ms back-off, before they fail for good) and partitioned by sensor
//!    (64 keys, one processor per key at a time).
//! 4. Latency: one message published every 100 µs (10k msg/s) for 10 s from its own thread;
//!    publish→processed and publish→ack percentiles, and publish→ack of failed messages (the
//!    path Broadway's reference figure measures).

use hdrhistogram::Histogram;
use pulse_server::pipeline::{
    Acknowledger, BatchInfo, GenerateProducer, Handler, Message, Pipeline, PipelineConfig, ProcessorConfig,
    PubSubProducer, RetryPolicy,
};
use pulse_server::pubsub::{PubSub, SubscribeConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const MESSAGES: u64 = 2_000_000;

/// The pipeline's own runtime, as the server gives it (`PULSE_PIPELINE_THREADS`, default 1
/// worker; `BENCH_WORKERS` here). Publishers and the bench itself run on another runtime.
static PIPELINE_RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// Starts a pipeline on [`PIPELINE_RT`].
fn start_pipeline<P, H>(config: PipelineConfig, producer: P, handler: Arc<H>, acker: Arc<Counter>) -> Pipeline
where
    P: pulse_server::pipeline::Producer<Data = Reading>,
    H: Handler<Data = Reading>,
{
    let _in = PIPELINE_RT.get().expect("runtime built in main").enter();
    Pipeline::start(config, producer, handler, acker).expect("valid config")
}
const RUNS: usize = 5;

/// A small reading, as the demo's.
#[derive(Clone, Debug)]
struct Reading {
    sensor: u32,
    value: f64,
    /// The field the processor adds.
    normalized: f64,
}

fn reading(seq: &mut u64) -> Reading {
    *seq += 1;
    // Every 100th reading is out of range: 1 % fail validation.
    let value = if seq.is_multiple_of(100) { 1_000.0 } else { (*seq % 90) as f64 };
    Reading { sensor: (*seq % 64) as u32, value, normalized: 0.0 }
}

fn make(seq: &mut u64, n: usize) -> Vec<Reading> {
    (0..n).map(|_| reading(seq)).collect()
}

struct Validate {
    batched: AtomicU64,
}

impl Handler for Validate {
    type Data = Reading;

    fn handle_message(&self, m: &mut Message<Reading>) {
        if m.data.sensor >= 64 || !(-50.0..=150.0).contains(&m.data.value) {
            m.fail("out of range", "value out of range");
            return;
        }
        m.data.normalized = (m.data.value + 50.0) / 200.0;
    }

    fn handle_batch(&self, batch: &mut [Message<Reading>], _info: &BatchInfo<'_>) {
        self.batched.fetch_add(batch.len() as u64, Ordering::Relaxed);
    }

    fn partition_by(&self, m: &Message<Reading>) -> u64 {
        u64::from(m.data.sensor)
    }
}

/// Counts acks; stamps the moment the last expected one arrives; optionally records latency.
struct Counter {
    expected: u64,
    ok: AtomicU64,
    failed: AtomicU64,
    done: OnceLock<Instant>,
    failed_latency: Option<Mutex<Histogram<u64>>>,
    /// Failed by a drop guard because their stage was killed.
    crashed: AtomicU64,
}

impl Counter {
    fn new(expected: u64, record_latency: bool) -> Arc<Self> {
        let h = || Mutex::new(Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("bounds"));
        Arc::new(Self {
            expected,
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            done: OnceLock::new(),
            failed_latency: record_latency.then(h),
            crashed: AtomicU64::new(0),
        })
    }
}

impl Acknowledger<Reading> for Counter {
    fn ack(&self, successful: &[Message<Reading>], failed: &[Message<Reading>]) {
        if let (Some(h), false) = (&self.failed_latency, failed.is_empty()) {
            let now = Instant::now();
            let mut h = h.lock().expect("lock");
            for m in failed {
                h.saturating_record((now - m.published_at).as_nanos() as u64);
            }
        }
        let crashed =
            failed.iter().filter(|m| m.failure().is_some_and(|f| f.kind == "stage crashed")).count();
        if crashed > 0 {
            self.crashed.fetch_add(crashed as u64, Ordering::Relaxed);
        }
        let ok = self.ok.fetch_add(successful.len() as u64, Ordering::AcqRel) + successful.len() as u64;
        let bad = self.failed.fetch_add(failed.len() as u64, Ordering::AcqRel) + failed.len() as u64;
        if ok + bad >= self.expected {
            let _ = self.done.set(Instant::now());
        }
    }
}

fn config(max_demand: usize, min_demand: usize) -> PipelineConfig {
    PipelineConfig {
        processors: ProcessorConfig {
            concurrency: 2,
            max_demand,
            min_demand: Some(min_demand),
            ..ProcessorConfig::default()
        },
        ..PipelineConfig::default()
    }
}

/// Resets the peak-RSS mark (Linux: writing 5 to clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Run {
    msg_per_s: f64,
    rss_mb: f64,
}

fn check(counter: &Counter, n: u64) {
    let (ok, failed) = (counter.ok.load(Ordering::Acquire), counter.failed.load(Ordering::Acquire));
    assert_eq!(ok + failed, n, "every message acknowledged once");
    assert_eq!(failed, n / 100, "1 % failed validation");
}

async fn pipeline_only(max_demand: usize, min_demand: usize, controls: Controls) -> Run {
    reset_peak_rss();
    let counter = Counter::new(MESSAGES, false);
    let handler = Arc::new(Validate { batched: AtomicU64::new(0) });
    let mut seq = 0u64;
    let producer = GenerateProducer::new("generator", MESSAGES, move || reading(&mut seq));
    let mut config = config(max_demand, min_demand);
    match controls {
        Controls::None => {}
        Controls::Retry => {
            config.retry = Some(RetryPolicy {
                max_attempts: 3,
                backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
                jitter: 0.5,
                max_pending: 100_000,
            })
        }
        Controls::Partitioned => config.processors.partitioned = true,
    }
    let start = Instant::now();
    let pipeline = start_pipeline(config, producer, handler, counter.clone());
    pipeline.finished().await;
    let end = *counter.done.get().expect("all acked");
    check(&counter, MESSAGES);
    Run { msg_per_s: MESSAGES as f64 / (end - start).as_secs_f64(), rss_mb: peak_rss_mb() }
}

async fn pubsub_fed(max_demand: usize, chunk: usize) -> Run {
    reset_peak_rss();
    let counter = Counter::new(MESSAGES, false);
    let handler = Arc::new(Validate { batched: AtomicU64::new(0) });
    let pubsub = PubSub::new();
    let producer =
        PubSubProducer::subscribe(&pubsub, &["events"], SubscribeConfig::blocking(65_536).named("pipeline"))
            .expect("valid topics");
    let pipeline = start_pipeline(config(max_demand, 0), producer, handler, counter.clone());
    let start = Instant::now();
    let publisher = tokio::spawn({
        let pubsub = pubsub.clone();
        async move {
            let mut seq = 0u64;
            let mut left = MESSAGES as usize;
            while left > 0 {
                let n = chunk.min(left);
                pubsub.publish("events", make(&mut seq, n)).await.expect("open");
                left -= n;
            }
        }
    });
    publisher.await.expect("publisher");
    pubsub.close();
    pipeline.finished().await;
    let end = *counter.done.get().expect("all acked");
    check(&counter, MESSAGES);
    Run { msg_per_s: MESSAGES as f64 / (end - start).as_secs_f64(), rss_mb: peak_rss_mb() }
}

struct Kills {
    kills: u64,
    restarts: u64,
    acked: u64,
    crashed: u64,
}

/// 2M messages while a stage task (processor, batcher or batch processor, in turn) is killed
/// every millisecond: every message must still be acknowledged exactly once.
async fn under_kills() -> Kills {
    let counter = Counter::new(MESSAGES, false);
    let handler = Arc::new(Validate { batched: AtomicU64::new(0) });
    let mut seq = 0u64;
    let producer = GenerateProducer::new("generator", MESSAGES, move || reading(&mut seq));
    let pipeline = start_pipeline(config(10, 0), producer, handler, counter.clone());
    let killer = tokio::spawn({
        let pipeline = pipeline.clone();
        async move {
            let stages = pipeline.stages();
            let mut kills = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            while !pipeline.is_finished() {
                tick.tick().await;
                if pipeline.kill(stages[kills as usize % stages.len()]).is_ok() {
                    kills += 1;
                }
            }
            kills
        }
    });
    if tokio::time::timeout(Duration::from_secs(10), pipeline.finished()).await.is_err() {
        let stats = pipeline.stats();
        for st in &stats.stages {
            eprintln!(
                "{} received {} ok {} failed {} queue {} restarts {}",
                st.id, st.received, st.successful, st.failed, st.queue, st.restarts
            );
        }
        eprintln!("acked {}", counter.ok.load(Ordering::Acquire) + counter.failed.load(Ordering::Acquire));
        panic!("hung");
    }
    let kills = killer.await.expect("killer");
    Kills {
        kills,
        restarts: pipeline.restarts(),
        acked: counter.ok.load(Ordering::Acquire) + counter.failed.load(Ordering::Acquire),
        crashed: counter.crashed.load(Ordering::Acquire),
    }
}

struct Latency {
    processed: [f64; 3],
    acked: [f64; 3],
    failed_acked: [f64; 3],
}

async fn steady_latency(seconds: u64) -> Latency {
    let n = seconds * 10_000;
    let counter = Counter::new(n, true);
    let handler = Arc::new(Validate { batched: AtomicU64::new(0) });
    let pubsub = PubSub::new();
    let producer =
        PubSubProducer::subscribe(&pubsub, &["events"], SubscribeConfig::blocking(65_536).named("pipeline"))
            .expect("valid topics");
    let pipeline = start_pipeline(config(10, 0), producer, handler, counter.clone());
    let runtime = tokio::runtime::Handle::current();
    let publisher = std::thread::spawn({
        let pubsub = pubsub.clone();
        move || {
            let start = Instant::now();
            let mut seq = 0u64;
            for i in 0..n {
                let due = start + Duration::from_micros(100 * i);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                runtime.block_on(pubsub.publish("events", make(&mut seq, 1))).expect("open");
            }
        }
    });
    tokio::task::spawn_blocking(move || publisher.join().expect("publisher")).await.expect("join");
    pubsub.close();
    pipeline.finished().await;
    check(&counter, n);
    let (processed, acked) = pipeline.latency_totals();
    let h = counter.failed_latency.as_ref().expect("recorded").lock().expect("lock").clone();
    let us = |v: u64| v as f64 / 1_000.0;
    Latency {
        processed: [processed.p50_us, processed.p99_us, processed.max_us],
        acked: [acked.p50_us, acked.p99_us, acked.max_us],
        failed_acked: [us(h.value_at_quantile(0.5)), us(h.value_at_quantile(0.99)), us(h.max())],
    }
}

/// Peak RSS of row `row` run alone in a fresh process.
fn probe_rss(row: usize) -> f64 {
    let exe = std::env::current_exe().expect("own path");
    let out =
        std::process::Command::new(exe).args(["--probe", &row.to_string()]).output().expect("probe runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Which run-time control a pipeline-only row turns on.
#[derive(Clone, Copy, PartialEq)]
enum Controls {
    None,
    /// Retry policy: the 1 % failing get 2 more attempts (1-2 ms back-off) first.
    Retry,
    /// Partitioned by sensor (64 keys).
    Partitioned,
}

/// One row of the throughput table.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    PipelineOnly { max_demand: usize, min_demand: usize, controls: Controls },
    PubSubFed { max_demand: usize, chunk: usize },
}

const fn plain(max_demand: usize, min_demand: usize) -> Shape {
    Shape::PipelineOnly { max_demand, min_demand, controls: Controls::None }
}

const ROWS: [(&str, Shape); 9] = [
    ("pipeline only, max_demand 10", plain(10, 0)),
    ("pipeline only, max_demand 10, min_demand 5 (Broadway's defaults)", plain(10, 5)),
    ("pipeline only, max_demand 64", plain(64, 0)),
    ("pipeline only, max_demand 256", plain(256, 0)),
    (
        "pipeline only, max_demand 10, retries (1 % retried twice)",
        Shape::PipelineOnly { max_demand: 10, min_demand: 0, controls: Controls::Retry },
    ),
    (
        "pipeline only, max_demand 10, partitioned by sensor (64 keys)",
        Shape::PipelineOnly { max_demand: 10, min_demand: 0, controls: Controls::Partitioned },
    ),
    ("pub/sub fed, chunks of 100, max_demand 10", Shape::PubSubFed { max_demand: 10, chunk: 100 }),
    ("pub/sub fed, chunks of 100, max_demand 256", Shape::PubSubFed { max_demand: 256, chunk: 100 }),
    ("pub/sub fed, one message per publish, max_demand 10", Shape::PubSubFed { max_demand: 10, chunk: 1 }),
];

/// Broadway's throughput measured on this machine kind (`docs/performance.md`, "Moving messages between tokio tasks"), by the
/// shape it was measured in: a row is compared only with a figure of its own shape. Broadway's
/// 266k msg/s fed through Phoenix.PubSub is left out: how many readings each broadcast carried
/// was not recorded, so no pub/sub row is known to be its shape.
const BROADWAY: [(Shape, f64); 1] = [
    // Broadway's defaults: max_demand 10, min_demand 5.
    (plain(10, 5), 551_000.0),
];

/// Broadway's figure for `shape`, if it was measured in that shape.
fn broadway(shape: Shape) -> Option<f64> {
    BROADWAY.iter().find(|(s, _)| *s == shape).map(|(_, rate)| *rate)
}

fn run_row(rt: &tokio::runtime::Runtime, shape: Shape) -> Run {
    match shape {
        Shape::PipelineOnly { max_demand, min_demand, controls } => {
            rt.block_on(pipeline_only(max_demand, min_demand, controls))
        }
        Shape::PubSubFed { max_demand, chunk } => rt.block_on(pubsub_fed(max_demand, chunk)),
    }
}

type Pick = fn(&Latency) -> [f64; 3];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // A plain argument keeps only the rows whose name contains it (e.g. `only`, `pub/sub`).
    let filter = args.iter().find(|a| !a.starts_with("--")).cloned();
    let runs = if quick { 1 } else { RUNS };
    let workers = std::env::var("BENCH_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let pipeline_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("pulse-pipeline")
        .enable_time()
        .build()
        .expect("pipeline runtime");
    let _ = PIPELINE_RT.set(pipeline_rt);
    // Publishers, killers and the measuring code: the "edge", as HTTP is in the server.
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    // `--probe N`: run row N once in this fresh process and print its peak RSS (a process that
    // ran other rows before keeps their heap, so each row's memory is measured alone).
    if let Some(i) =
        args.iter().position(|a| a == "--probe").and_then(|p| args.get(p + 1)?.parse::<usize>().ok())
    {
        println!("{}", run_row(&rt, ROWS[i].1).rss_mb);
        return;
    }
    let rows: Vec<usize> =
        (0..ROWS.len()).filter(|i| filter.as_ref().is_none_or(|f| ROWS[*i].0.contains(f.as_str()))).collect();
    let mut rates: Vec<Vec<f64>> = rows.iter().map(|_| Vec::new()).collect();
    // Interleaved: run 1 of every row, then run 2 of every row, ... (these VMs are noisy).
    for run in 0..runs {
        for (i, row) in rows.iter().enumerate() {
            let r = run_row(&rt, ROWS[*row].1);
            eprintln!("run {}: {}: {:.2}M msg/s", run + 1, ROWS[*row].0, r.msg_per_s / 1e6);
            rates[i].push(r.msg_per_s);
        }
    }
    println!(
        "\n## Throughput: {MESSAGES} messages, medians of {runs} runs (2 processors on the pipeline's own {workers}-worker runtime, as the server runs them; batches of 100 / 50 ms)\n"
    );
    println!("| shape | msg/s | vs Broadway, same shape | peak RSS (process, run alone) |");
    println!("|---|---|---|---|");
    for (row, rates) in rows.iter().zip(rates) {
        let (name, shape) = ROWS[*row];
        let rate = median(rates);
        let vs = broadway(shape).map_or("—".to_owned(), |b| format!("{:.0}× ({:.0}k)", rate / b, b / 1e3));
        let rss = probe_rss(*row);
        println!("| {name} | {:.2}M | {vs} | {rss:.1} MB |", rate / 1e6);
    }
    if filter.as_ref().is_some_and(|f| f != "latency" && f != "kills") {
        return;
    }
    if filter.as_deref() != Some("latency") {
        println!("\n## Killing a stage task every millisecond during {MESSAGES} messages (max_demand 10)\n");
        println!("| run | kills | restarts | acknowledged | failed as \"stage crashed\" | lost |");
        println!("|---|---|---|---|---|---|");
        for run in 1..=runs.min(3) {
            let k = rt.block_on(under_kills());
            let lost = MESSAGES as i64 - k.acked as i64;
            println!("| {run} | {} | {} | {} | {} | {lost} |", k.kills, k.restarts, k.acked, k.crashed);
        }
        println!("\nBroadway loses its in-flight messages on each kill (measured: 20 of 2M per kill).");
    }
    if filter.as_deref() == Some("kills") {
        return;
    }
    let seconds = if quick { 2 } else { 10 };
    let lat: Vec<Latency> = (0..runs).map(|_| rt.block_on(steady_latency(seconds))).collect();
    let col = |pick: Pick, k: usize| median(lat.iter().map(|l| pick(l)[k]).collect());
    println!("\n## Latency at a steady 10,000 msg/s for {seconds} s, medians of {runs} runs (µs)\n");
    println!("| path | p50 | p99 | max |");
    println!("|---|---|---|---|");
    let paths: [(&str, Pick); 3] = [
        ("publish → processed (end of handle_message)", |l| l.processed),
        ("publish → ack, failed messages (acked by the processor)", |l| l.failed_acked),
        ("publish → ack, all messages (successful ones wait for their batch)", |l| l.acked),
    ];
    for (name, pick) in paths {
        println!("| {name} | {:.1} | {:.1} | {:.1} |", col(pick, 0), col(pick, 1), col(pick, 2));
    }
    println!(
        "\nBroadway reference (same machine kind): 551k msg/s pipeline only at its defaults (max_demand \
         10, min_demand 5; ~30 MB), 266k msg/s via Phoenix.PubSub (publish granularity not recorded: \
         compared with no row); failed-message ack latency p50 120 µs, p99 280 µs. \"—\": no Broadway \
         figure of that row's shape."
    );
}
