//! Limits a client cannot exhaust, against a real server: trickled headers and silent
//! connections closed by the header-read timeout, the connection cap answered with 503 then
//! freed, a stalled body cut by the body timeout, a live-stream client that stops reading
//! dropped while another keeps its frames. Every wait is for a condition, bounded.

mod common;

use common::TestServer;
use futures_util::StreamExt;
use pulse_server::{Limits, ServerConfig};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn with_limits(limits: Limits) -> ServerConfig {
    ServerConfig { limits, ..ServerConfig::default() }
}

fn limits() -> Limits {
    ServerConfig::default().limits
}

/// Reads until the server closes the connection; what it sent. Bounded: 20 s.
async fn until_closed(conn: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read_all).await.expect("the server closes the connection");
    got
}

/// Catches: no header-read timeout (a slowloris holds connections forever), or one that a
/// trickle of header bytes keeps resetting.
#[tokio::test]
async fn connections_trickling_headers_are_closed_by_the_header_timeout() {
    let s = TestServer::with_config(with_limits(Limits {
        header_timeout: Duration::from_millis(500),
        ..limits()
    }))
    .await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let addr = s.addr;
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(addr).await.expect("connect");
            conn.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
                .await
                .expect("write");
            let (mut read, mut write) = conn.into_split();
            // One header byte every 50 ms, for as long as the server listens.
            let trickle = tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(50));
                loop {
                    tick.tick().await;
                    if write.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            });
            let mut buf = [0u8; 1024];
            let closed = tokio::time::timeout(Duration::from_secs(20), async {
                loop {
                    match read.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            trickle.abort();
            assert!(closed.is_ok(), "connection {i} still open");
        }));
    }
    // Meanwhile a real client is served.
    assert_eq!(s.http.get(s.url("/healthz")).send().await.expect("request").status(), 200);
    for t in tasks {
        t.await.expect("every trickling connection was closed");
    }
}

/// Catches: no connection cap, a cap that drops the connection without a word, or silent
/// connections that keep their places forever.
#[tokio::test]
async fn past_the_connection_cap_a_client_gets_503_until_silent_ones_time_out() {
    let s = TestServer::with_config(with_limits(Limits {
        max_connections: 20,
        header_timeout: Duration::from_millis(800),
        ..limits()
    }))
    .await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(s.addr).await.expect("connect"));
    }
    // Accepted in order: the 21st connection finds the cap reached.
    let mut extra = TcpStream::connect(s.addr).await.expect("connect");
    extra
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr).as_bytes())
        .await
        .expect("write");
    let answer = String::from_utf8_lossy(&until_closed(&mut extra).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1") && answer.contains("--max-connections"), "{answer}");
    // The silent ones are closed by the header timeout; then the server has room again.
    for conn in &mut silent {
        until_closed(conn).await;
    }
    let mut served = false;
    for _ in 0..100 {
        if s.http.get(s.url("/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "served once the silent connections were gone");
    let metrics = s.http.get(s.url("/metrics")).send().await.expect("scrape").text().await.expect("text");
    assert!(
        metrics.lines().any(|l| l.starts_with("pulse_http_connections_refused_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
}

/// Catches: no body timeout: a client that sends its headers and then only part of its body
/// holds its request (and a handler) open.
#[tokio::test]
async fn a_stalled_body_is_cut_by_the_body_timeout() {
    let s =
        TestServer::with_config(with_limits(Limits { body_timeout: Duration::from_millis(300), ..limits() }))
            .await;
    let mut conn = TcpStream::connect(s.addr).await.expect("connect");
    let head = format!(
        "POST /api/events HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{{\"sens",
        s.addr
    );
    conn.write_all(head.as_bytes()).await.expect("write");
    let answer = String::from_utf8_lossy(&until_closed(&mut conn).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--body-timeout-ms"), "a JSON reason: {answer}");
    assert_eq!(s.stats().await.published, 0);
}

/// Catches: a client that never reads holding its socket (and its frames) forever, or slowing
/// the other clients' streams.
#[tokio::test]
async fn a_stream_client_that_stops_reading_is_dropped_and_the_others_keep_their_frames() {
    let s =
        TestServer::with_config(with_limits(Limits { ws_max_lag: 5, socket_send_buffer: 8192, ..limits() }))
            .await;
    // Traffic makes frames large enough to fill the stuck client's buffers soon.
    let _: () = s.call("start_simulator", &[("rate_per_s", "20000"), ("invalid_pct", "20")]).await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small receive buffer");
    let mut stuck = socket.connect(s.addr).await.expect("connect");
    let upgrade = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        s.addr
    );
    stuck.write_all(upgrade.as_bytes()).await.expect("write"); // and never reads
    let (mut reader, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr)).await.expect("connect");
    let mut frames = 0u64;
    let mut dropped = false;
    for _ in 0..600 {
        // Up to 60 s of frames, checking the drop counter every 10 frames.
        let frame = tokio::time::timeout(Duration::from_secs(5), reader.next()).await;
        assert!(matches!(frame, Ok(Some(Ok(_)))), "the reading client keeps its frames: {frame:?}");
        frames += 1;
        if frames.is_multiple_of(10) {
            let metrics =
                s.http.get(s.url("/metrics")).send().await.expect("scrape").text().await.expect("text");
            if metrics.lines().any(|l| l == "pulse_websocket_dropped_slow_total 1") {
                dropped = true;
                break;
            }
        }
    }
    assert!(dropped, "the client that stopped reading was dropped ({frames} frames to the other)");
    assert!(frames >= 5, "the other client read through the whole stall");
    let _: () = s.call("stop_simulator", &[]).await;
}
