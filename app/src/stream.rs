//! The live stream: one WebSocket per page feeding stats snapshots into signals.
//!
//! On the server this does nothing (the first paint comes from `get_stats`); in the browser it
//! connects to `/ws`, reconnects with exponential back-off when the socket closes, and tells the
//! page whether it is live so a visitor knows the numbers are current.

use crate::model::StatsSnapshot;
use leptos::prelude::*;

/// The state of the page's stream, shown as a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// First attempt under way.
    Connecting,
    /// Snapshots are arriving.
    Live,
    /// The socket closed; a new attempt is scheduled.
    Reconnecting,
}

impl Connection {
    /// The badge's text.
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting…",
            Connection::Live => "live",
            Connection::Reconnecting => "reconnecting…",
        }
    }
}

/// Signals fed by the stream.
#[derive(Clone, Copy)]
pub struct LiveStats {
    /// The newest snapshot received, if any yet.
    pub snapshot: ReadSignal<Option<StatsSnapshot>>,
    /// Whether the stream is live.
    pub connection: ReadSignal<Connection>,
}

/// Starts the page's stream (in the browser) and returns its signals.
pub fn use_live_stats() -> LiveStats {
    let (snapshot, set_snapshot) = signal(None::<StatsSnapshot>);
    let (connection, set_connection) = signal(Connection::Connecting);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| client::start(set_snapshot, set_connection));
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_snapshot, set_connection);
    LiveStats { snapshot, connection }
}

/// Delay before reconnect attempt `attempt` (0-based): 250 ms doubling up to 5 s.
pub fn backoff_ms(attempt: u32) -> u32 {
    250u32.saturating_mul(1 << attempt.min(5)).min(5_000)
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{Connection, backoff_ms};
    use crate::model::StatsSnapshot;
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{MessageEvent, WebSocket};

    /// The open socket and the callbacks it holds. Kept until the next attempt replaces it, so
    /// callbacks are dropped only once they can no longer run (no leak per reconnect).
    struct Socket {
        _ws: WebSocket,
        _on_open: Closure<dyn FnMut()>,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut()>,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Socket>> = const { RefCell::new(None) };
    }

    fn url() -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }

    pub fn start(set_snapshot: WriteSignal<Option<StatsSnapshot>>, set_conn: WriteSignal<Connection>) {
        connect(set_snapshot, set_conn, 0);
    }

    fn retry(
        set_snapshot: WriteSignal<Option<StatsSnapshot>>,
        set_conn: WriteSignal<Connection>,
        attempt: u32,
    ) {
        set_conn.set(Connection::Reconnecting);
        gloo_timers::callback::Timeout::new(backoff_ms(attempt), move || {
            connect(set_snapshot, set_conn, attempt + 1)
        })
        .forget();
    }

    fn connect(
        set_snapshot: WriteSignal<Option<StatsSnapshot>>,
        set_conn: WriteSignal<Connection>,
        attempt: u32,
    ) {
        // Drop the previous socket and its callbacks: it is closed, its callbacks have run.
        CURRENT.with(|c| c.borrow_mut().take());
        let Some(ws) = url().and_then(|u| WebSocket::new(&u).ok()) else {
            retry(set_snapshot, set_conn, attempt);
            return;
        };
        // A socket that opened once starts its back-off afresh when it closes.
        let opened = Rc::new(Cell::new(false));
        let on_open = Closure::<dyn FnMut()>::new({
            let opened = opened.clone();
            move || {
                opened.set(true);
                set_conn.set(Connection::Live);
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                match serde_json::from_str::<StatsSnapshot>(&text) {
                    Ok(s) => set_snapshot.set(Some(s)),
                    Err(err) => leptos::logging::warn!("bad snapshot from /ws: {err}"),
                }
            }
        });
        let on_close = Closure::<dyn FnMut()>::new(move || {
            retry(set_snapshot, set_conn, if opened.get() { 0 } else { attempt });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        CURRENT.with(|c| {
            *c.borrow_mut() =
                Some(Socket { _ws: ws, _on_open: on_open, _on_message: on_message, _on_close: on_close })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_ms(0), 250);
        assert_eq!(backoff_ms(1), 500);
        assert_eq!(backoff_ms(4), 4_000);
        assert_eq!(backoff_ms(5), 5_000);
        assert_eq!(backoff_ms(40), 5_000);
    }

    #[test]
    fn labels() {
        assert_eq!(Connection::Reconnecting.label(), "reconnecting…");
    }
}
