//! `GET /ws`: the live stream. Sends the latest serialized snapshot at once, then every new one
//! the reporter publishes (10 per second), the same bytes to every client.

use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};

/// Small socket buffers: axum's defaults cost ~133 KB per connection, 4 KiB costs ~8.5 KB and
/// lowers lag (measured in `shared/PERFORMANCE.md`).
const SOCKET_BUFFER: usize = 4096;

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| stream(socket, state))
}

async fn stream(socket: WebSocket, state: AppState) {
    let mut snapshots = state.reporter.subscribe();
    let _open = state.observe.sockets().opened();
    let (mut tx, mut rx) = socket.split();
    loop {
        let current = snapshots.borrow_and_update().clone();
        state.observe.sockets().sent(current.len());
        if tx.send(Message::Text(current.as_ref().into())).await.is_err() {
            return;
        }
        // Wait for the next snapshot, answering nothing the client says (it only listens).
        loop {
            tokio::select! {
                changed = snapshots.changed() => {
                    if changed.is_err() {
                        let _ = tx.send(Message::Close(None)).await;
                        return;
                    }
                    break;
                }
                incoming = rx.next() => match incoming {
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
                () = state.shutdown.cancelled() => {
                    let _ = tx.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    }
}
