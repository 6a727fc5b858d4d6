//! Slow and silent clients against the server process: its connections and memory while 2,000
//! silent TCP connections and then 100 header-trickling ones try to hold it, and how soon it
//! is free again. Run: `cargo bench -p server --bench slow_clients`. Loopback only; it stops by
//! itself (the server child is killed on every exit path).
//!
//! The server runs with its defaults (`--max-connections 1024`) and a 2 s header timeout, so a
//! run takes seconds. What it prints is the table of issue 15's closing note: before the limits
//! (axum::serve, measured in the issue) every one of these connections stayed open.

#[path = "common/procfs.rs"]
mod procfs;

use procfs::rss_mb;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER_TIMEOUT_MS: u64 = 2_000;

/// The server binary as a child, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads until the server closes `conn`: (bytes it sent, when it closed).
async fn closed(mut conn: TcpStream, limit: Duration) -> Option<(usize, Instant)> {
    let mut buf = [0u8; 2048];
    let mut got = 0;
    tokio::time::timeout(limit, async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return (got, Instant::now()),
                Ok(n) => got += n,
            }
        }
    })
    .await
    .ok()
}

async fn healthy(addr: &str) -> bool {
    let client = reqwest::Client::new();
    client.get(format!("http://{addr}/healthz")).send().await.is_ok_and(|r| r.status() == 200)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let data = tempfile::tempdir()?;
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--addr", &addr, "--header-timeout-ms", &HEADER_TIMEOUT_MS.to_string()])
            .arg("--data-dir")
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?,
    );
    let pid = server.0.id().to_string();
    let start = Instant::now();
    while !healthy(&addr).await {
        anyhow::ensure!(start.elapsed() < Duration::from_secs(20), "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle_rss = rss_mb(&pid);
    println!("server idle: RSS {idle_rss:.1} MiB");

    // 2,000 silent connections: the cap (1024) takes the first, 64 overflow slots wait for a
    // request to answer 503, the rest are closed at once.
    let opened = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..2_000 {
        silent.push(TcpStream::connect(&addr).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // the accept loop catches up
    let held_rss = rss_mb(&pid);
    let waits: Vec<_> =
        silent.into_iter().map(|c| tokio::spawn(closed(c, Duration::from_secs(30)))).collect();
    let mut at_once = 0;
    let mut last = opened;
    let mut open_after_timeout = 0;
    for w in waits {
        match w.await? {
            Some((_, when)) => {
                if when.duration_since(opened) < Duration::from_millis(HEADER_TIMEOUT_MS / 2) {
                    at_once += 1;
                }
                last = last.max(when);
            }
            None => open_after_timeout += 1,
        }
    }
    let free_after = last.duration_since(opened);
    let recovered = healthy(&addr).await;
    println!(
        "2,000 silent connections: RSS {held_rss:.1} MiB while held ({:.1} KiB per held connection), \
         {at_once} closed at once, all closed after {:.2} s, {open_after_timeout} still open after 30 s; \
         answers again: {recovered}",
        (held_rss - idle_rss) * 1024.0 / 1_088.0,
        free_after.as_secs_f64()
    );

    // 100 connections trickling one header byte every 100 ms.
    let started = Instant::now();
    let mut trickles = Vec::new();
    for _ in 0..100 {
        let mut conn = TcpStream::connect(&addr).await?;
        conn.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n").as_bytes()).await?;
        trickles.push(tokio::spawn(async move {
            let (mut read, mut write) = conn.into_split();
            let writer = tokio::spawn(async move {
                while write.write_all(b"x").await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            let mut buf = [0u8; 1024];
            let done = tokio::time::timeout(Duration::from_secs(30), async {
                while read.read(&mut buf).await.is_ok_and(|n| n > 0) {}
            })
            .await;
            writer.abort();
            done.is_ok().then(Instant::now)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let trickle_rss = rss_mb(&pid);
    let mut closed_n = 0;
    let mut last = started;
    for t in trickles {
        if let Some(when) = t.await? {
            closed_n += 1;
            last = last.max(when);
        }
    }
    println!(
        "100 trickling connections: RSS {trickle_rss:.1} MiB while held, {closed_n}/100 closed, the last after \
         {:.2} s (header timeout {:.1} s); answers again: {}",
        last.duration_since(started).as_secs_f64(),
        HEADER_TIMEOUT_MS as f64 / 1000.0,
        healthy(&addr).await
    );
    println!("server RSS at the end: {:.1} MiB", rss_mb(&pid));
    drop(server);
    Ok(())
}
