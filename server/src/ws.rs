//! `GET /ws`: the live stream. Sends a full frame at once (the whole five-minute window and the
//! latest feed items), then each tick's delta frame (10 per second), the same bytes to every
//! client. A client that fell behind (ticks skipped while it was slow) gets the current tick's
//! full frame instead, so nothing it shows has holes. Frames are binary messages, postcard-encoded
//! (`app::model::wire`); `get_live` serves the same frame as JSON.
//!
//! A client that stops reading cannot slow the others (each socket has its own task, and a
//! tick is a shared value, not a queue), nor hold its socket forever: its send queue is the
//! socket's small write buffer, and once one send has been stuck while `--ws-max-lag` ticks
//! went by, it is dropped and counted. The socket keeps its connection's place under
//! `--max-connections` ([`Slot`]).

use crate::live::Tick;
use crate::serve::Slot;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::watch;

/// Small socket buffers: axum's defaults cost ~133 KB per connection, 4 KiB costs ~8.5 KB and
/// lowers lag (measured in `docs/performance.md`).
const SOCKET_BUFFER: usize = 4096;

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    slot: Option<Extension<Slot>>,
) -> Response {
    ws.read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| stream(socket, state, slot))
}

async fn stream(mut socket: WebSocket, state: AppState, _slot: Option<Extension<Slot>>) {
    let mut ticks = state.reporter.subscribe();
    let _open = state.observe.sockets().opened();
    let mut sent: Option<u64> = None;
    loop {
        let tick = ticks.borrow_and_update().clone();
        let frame = if sent.is_some_and(|s| tick.seq == s + 1) { tick.delta() } else { tick.full() };
        sent = Some(tick.seq);
        state.observe.sockets().sent(frame.len());
        // The tick's own buffer, shared by a reference count: no copy per socket.
        let sent = tokio::select! {
            sent = socket.send(Message::Binary(frame.clone())) => sent.is_ok(),
            () = lagging(&mut ticks, tick.seq, state.ws_max_lag) => {
                state.observe.sockets().dropped_slow();
                tracing::info!("dropped a live-stream client that stopped reading");
                false
            }
        };
        if !sent {
            return;
        }
        // Wait for the next tick, answering nothing the client says (it only listens). The
        // socket is not split: reading and sending never overlap, and `recv` is cancel-safe.
        loop {
            tokio::select! {
                changed = ticks.changed() => {
                    if changed.is_err() {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    break;
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
                () = state.shutdown.cancelled() => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    }
}

/// Resolves once the ticks have gone `max_lag` past `sent` (never, if they stop).
async fn lagging(ticks: &mut watch::Receiver<std::sync::Arc<Tick>>, sent: u64, max_lag: u64) {
    loop {
        if ticks.changed().await.is_err() {
            return std::future::pending().await;
        }
        if ticks.borrow().seq >= sent.saturating_add(max_lag) {
            return;
        }
    }
}
