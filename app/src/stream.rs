//! The live stream: one WebSocket per page feeding [`LiveFrame`]s into the page's model.
//!
//! On the server this does nothing (the first paint is rendered from the backend's frame); in
//! the browser it connects to `/ws`, decodes each binary frame (`model::wire`), hands it to the
//! page, reconnects with exponential back-off when
//! the socket closes (a restarted server is picked up by itself: its first frame is full), and
//! tells the page whether it is live so a visitor knows the numbers are current. The socket is
//! closed when the page that opened it goes away.

use crate::model::LiveFrame;
use leptos::prelude::*;

/// The state of the page's stream, shown as a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// First attempt under way.
    Connecting,
    /// Frames are arriving.
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

/// Opens the page's stream (in the browser): every frame goes to `on_frame`, the connection's
/// state to `connection`. Stops when the calling component is cleaned up.
pub fn connect(connection: WriteSignal<Connection>, on_frame: impl Fn(LiveFrame) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let generation = client::start(connection, std::rc::Rc::new(on_frame));
        on_cleanup(move || client::stop(generation));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (connection, on_frame);
}

/// Delay before reconnect attempt `attempt` (0-based): 250 ms doubling up to 5 s.
pub fn backoff_ms(attempt: u32) -> u32 {
    250u32.saturating_mul(1 << attempt.min(5)).min(5_000)
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{Connection, backoff_ms};
    use crate::model::{LiveFrame, wire};
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{MessageEvent, WebSocket};

    type OnFrame = Rc<dyn Fn(LiveFrame)>;

    /// The open socket and the callbacks it holds. Kept until the next attempt replaces it, so
    /// callbacks are dropped only once they can no longer run (no leak per reconnect).
    struct Socket {
        ws: WebSocket,
        _on_open: Closure<dyn FnMut()>,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut()>,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Socket>> = const { RefCell::new(None) };
        /// Bumped by every start and stop: callbacks of an older stream see a different number
        /// and do nothing.
        static GENERATION: Cell<u64> = const { Cell::new(0) };
    }

    fn current(generation: u64) -> bool {
        GENERATION.with(Cell::get) == generation
    }

    fn url() -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }

    pub fn start(set_conn: WriteSignal<Connection>, on_frame: OnFrame) -> u64 {
        let generation = GENERATION.with(|g| {
            g.set(g.get() + 1);
            g.get()
        });
        connect(set_conn, on_frame, generation, 0);
        generation
    }

    pub fn stop(generation: u64) {
        if current(generation) {
            GENERATION.with(|g| g.set(g.get() + 1));
            discard_current();
        }
    }

    /// Closes the current socket, if any, and drops its callbacks, detached first: a dropped
    /// closure must never be called by the browser (the socket may still be open, e.g. when a
    /// new page starts a stream before the old one was cleaned up).
    fn discard_current() {
        if let Some(socket) = CURRENT.with(|c| c.borrow_mut().take()) {
            socket.ws.set_onopen(None);
            socket.ws.set_onmessage(None);
            socket.ws.set_onclose(None);
            let _ = socket.ws.close();
        }
    }

    fn retry(set_conn: WriteSignal<Connection>, on_frame: OnFrame, generation: u64, attempt: u32) {
        set_conn.try_set(Connection::Reconnecting);
        gloo_timers::callback::Timeout::new(backoff_ms(attempt), move || {
            if current(generation) {
                connect(set_conn, on_frame, generation, attempt + 1);
            }
        })
        .forget();
    }

    fn connect(set_conn: WriteSignal<Connection>, on_frame: OnFrame, generation: u64, attempt: u32) {
        discard_current();
        let Some(ws) = url().and_then(|u| WebSocket::new(&u).ok()) else {
            retry(set_conn, on_frame, generation, attempt);
            return;
        };
        // Frames are binary (postcard, see `model::wire`): read them as ArrayBuffers.
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
        // A socket that opened once starts its back-off afresh when it closes.
        let opened = Rc::new(Cell::new(false));
        let on_open = Closure::<dyn FnMut()>::new({
            let opened = opened.clone();
            move || {
                opened.set(true);
                set_conn.try_set(Connection::Live);
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let on_frame = on_frame.clone();
            move |e: MessageEvent| {
                let Ok(buffer) = e.data().dyn_into::<js_sys::ArrayBuffer>() else { return };
                match wire::decode::<LiveFrame>(&js_sys::Uint8Array::new(&buffer).to_vec()) {
                    Ok(frame) if current(generation) => on_frame(frame),
                    Ok(_) => {}
                    Err(err) => leptos::logging::warn!("bad frame from /ws: {err}"),
                }
            }
        });
        let on_close = Closure::<dyn FnMut()>::new(move || {
            if current(generation) {
                retry(set_conn, on_frame.clone(), generation, if opened.get() { 0 } else { attempt });
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        CURRENT.with(|c| {
            *c.borrow_mut() =
                Some(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close })
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
