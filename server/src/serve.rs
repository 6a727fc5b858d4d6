//! The accept loop: each connection is served by hyper's HTTP/1 with hyper's own header-read
//! timeout (which hyper 1.12 also runs while a kept-alive connection idles, so one setting
//! bounds both), under a cap on connections open at once (a semaphore). The request-body
//! timeout is tower-http's, in `server.rs`. Each accepted socket gets a fixed kernel send
//! buffer (`--socket-send-buffer`), the bound on what a client that stops reading can leave
//! queued.
//!
//! `axum::serve` offers none of these settings, so this file replaces it; what it adds is only
//! wiring: the permit, the peer's address as axum's [`ConnectInfo`], graceful shutdown.
//!
//! Past the cap a connection is still answered, briefly: a few overflow slots serve one
//! `503 Service Unavailable` with `Retry-After` and a JSON reason, then close; past those the
//! connection is closed at once. A WebSocket keeps its connection's permit (a [`Slot`] in the
//! request's extensions, taken by `ws.rs`), so live streams count against the cap too.

use crate::config::Limits;
use crate::observe::socket::SocketMetrics;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A connection's place under `--max-connections`, held while the connection (or the
/// WebSocket it became) lives.
#[derive(Clone, Debug)]
pub(crate) struct Slot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// Connections past the cap that still get their 503, at most.
const OVERFLOW_SLOTS: usize = 64;

/// How long an overflow connection may take to send its request before it is closed.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets each connection end
/// its current request (hyper's graceful shutdown) and returns once every one has closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    metrics: Arc<SocketMetrics>,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let overflow = Arc::new(Semaphore::new(OVERFLOW_SLOTS));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut busy = http1::Builder::new();
    busy.timer(TokioTimer::new()).header_read_timeout(OVERFLOW_HEADER_TIMEOUT).keep_alive(false);
    let busy_answer = Arc::new(too_many(limits.max_connections));
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: the listener stays, as axum::serve's.
                    tracing::warn!("accept failed: {e}");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(50)) => continue,
                        () = shutdown.cancelled() => break,
                    }
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        if limits.socket_send_buffer > 0 {
            // Bounds what a client that stops reading leaves queued in the kernel for it.
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(limits.socket_send_buffer);
        }
        let io = TokioIo::new(stream);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let slot = Slot(Arc::new(permit));
                let open = metrics.connection();
                let router = router.clone();
                let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req.extensions_mut().insert(slot.clone());
                    tower::ServiceExt::oneshot(router.clone(), req)
                });
                let conn = http.serve_connection(io, service).with_upgrades();
                let shutdown = shutdown.clone();
                connections.spawn(async move {
                    let _open = open;
                    let mut conn = std::pin::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        () = shutdown.cancelled() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
            Err(_) => {
                metrics.refused();
                // Past the overflow slots too: closed at once (dropping the stream).
                let Ok(permit) = overflow.clone().try_acquire_owned() else { continue };
                let answer = busy_answer.clone();
                let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
                    let answer = answer.clone();
                    async move { Ok::<_, Infallible>(answer.as_response()) }
                });
                let conn = busy.serve_connection(io, service);
                connections.spawn(async move {
                    let _permit = permit;
                    let _ = conn.await;
                });
            }
        }
    }
    connections.close();
    connections.wait().await;
}

/// The answer past the cap, built once.
struct TooMany(String);

fn too_many(max: usize) -> TooMany {
    TooMany(
        serde_json::json!({
            "error": format!("this server is at its limit of {max} connections (--max-connections); try again")
        })
        .to_string(),
    )
}

impl TooMany {
    fn as_response(&self) -> Response<String> {
        let mut response = Response::new(self.0.clone());
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let headers = response.headers_mut();
        headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        headers.insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
        response
    }
}
