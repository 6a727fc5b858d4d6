//! The live stream: one WebSocket per page feeding [`LiveFrame`]s into the page's model.
//!
//! On the server this does nothing (the first paint is rendered from the backend's frame); in
//! the browser it connects to `/ws`, decodes each binary frame (`model::wire`), hands it to the
//! page, and tells the page whether its numbers are current: "live" while frames arrive,
//! "stale" once [`link::STALE_TICKS`] frame periods pass without one (a half-open socket never
//! closes by itself: the client closes it and reconnects), "reconnecting…" while the socket is
//! down. Reconnects back off exponentially ([`link::backoff_ms`]); a restarted server is picked
//! up by itself (its first frame is full). The socket is closed when the page that opened it
//! goes away.
//!
//! Every decision (which socket is current, back-off, staleness, the badge) is made by the pure
//! [`link::Link`]; the browser half below only opens sockets and runs timers.

pub mod link;

use crate::model::LiveFrame;
use leptos::prelude::*;

/// The state of the page's stream, shown as a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// First attempt under way.
    Connecting,
    /// Frames are arriving.
    Live,
    /// Frames stopped arriving on an open socket; it is being replaced.
    Stale,
    /// The socket closed; a new attempt is scheduled.
    Reconnecting,
}

impl Connection {
    /// The badge's text.
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting…",
            Connection::Live => "live",
            Connection::Stale => "stale",
            Connection::Reconnecting => "reconnecting…",
        }
    }
}

/// Opens the page's stream (in the browser): every frame goes to `on_frame`, the connection's
/// state to `connection`. Stops when the calling component is cleaned up.
pub fn connect(connection: WriteSignal<Connection>, on_frame: impl Fn(LiveFrame) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let id = client::start(connection, std::rc::Rc::new(on_frame));
        on_cleanup(move || client::stop(id));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (connection, on_frame);
}

#[cfg(feature = "hydrate")]
mod client {
    use super::Connection;
    use super::link::{FRAME_MS, Link, Step};
    use crate::model::{LiveFrame, wire};
    use gloo_timers::callback::{Interval, Timeout};
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{MessageEvent, WebSocket};

    type OnFrame = Rc<dyn Fn(LiveFrame)>;

    /// An open socket and the callbacks it holds. Dropped when the socket is given up or
    /// replaced: its callbacks are detached first (a dropped closure must never be called by the
    /// browser), then it is closed.
    struct Socket {
        ws: WebSocket,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut()>,
    }

    impl Drop for Socket {
        fn drop(&mut self) {
            self.ws.set_onmessage(None);
            self.ws.set_onclose(None);
            let _ = self.ws.close();
        }
    }

    /// The page's stream: its [`Link`], its socket, and the ticker that notices silence.
    /// Dropping it closes the socket and stops the ticker.
    struct Stream {
        id: u64,
        link: Link,
        socket: Option<Socket>,
        set_conn: WriteSignal<Connection>,
        on_frame: OnFrame,
        _ticks: Interval,
    }

    thread_local! {
        static STREAM: RefCell<Option<Stream>> = const { RefCell::new(None) };
        /// Bumped by every start: callbacks and timers of an older stream find another id.
        static IDS: Cell<u64> = const { Cell::new(0) };
    }

    /// Runs `f` on stream `id` (`None` if it is not the current stream any more), then shows
    /// the link's state if `f` changed it. The signal is set once the stream is released.
    fn with_stream<R>(id: u64, f: impl FnOnce(&mut Stream) -> R) -> Option<R> {
        let (result, changed) = STREAM.with(|cell| {
            let mut cell = cell.borrow_mut();
            let stream = cell.as_mut().filter(|s| s.id == id)?;
            let before = stream.link.state();
            let result = f(stream);
            let after = stream.link.state();
            Some((result, (after != before).then_some((stream.set_conn, after))))
        })?;
        if let Some((set_conn, state)) = changed {
            set_conn.try_set(state);
        }
        Some(result)
    }

    fn url() -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }

    /// Starts the page's stream (replacing any other); returns its id for [`stop`].
    pub fn start(set_conn: WriteSignal<Connection>, on_frame: OnFrame) -> u64 {
        let id = IDS.with(|ids| {
            ids.set(ids.get() + 1);
            ids.get()
        });
        let ticks = Interval::new(FRAME_MS, move || {
            if let Some(step) = with_stream(id, |s| s.link.tick()) {
                follow(id, step);
            }
        });
        let stream = Stream { id, link: Link::new(), socket: None, set_conn, on_frame, _ticks: ticks };
        let replaced = STREAM.with(|cell| cell.replace(Some(stream)));
        drop(replaced);
        open(id);
        id
    }

    /// Stops stream `id` if it is still the current one: its socket closes, its timers find
    /// nothing to do.
    pub fn stop(id: u64) {
        let stopped = STREAM.with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.as_ref().is_some_and(|s| s.id == id) { cell.take() } else { None }
        });
        drop(stopped);
    }

    /// Does what the link answered: on a retry, drops the socket now and opens a new one later.
    fn follow(id: u64, step: Step) {
        let Step::Retry { delay_ms, generation } = step else { return };
        let given_up = with_stream(id, |s| s.socket.take());
        drop(given_up);
        Timeout::new(delay_ms, move || {
            if with_stream(id, |s| s.link.due(generation)) == Some(true) {
                open(id);
            }
        })
        .forget();
    }

    fn open(id: u64) {
        let Some((generation, on_frame)) = with_stream(id, |s| (s.link.open(), s.on_frame.clone())) else {
            return;
        };
        let closed = move || {
            if let Some(step) = with_stream(id, |s| s.link.closed(generation)) {
                follow(id, step);
            }
        };
        let Some(ws) = url().and_then(|u| WebSocket::new(&u).ok()) else {
            closed();
            return;
        };
        // Frames are binary (postcard, see `model::wire`): read them as ArrayBuffers.
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Ok(buffer) = e.data().dyn_into::<js_sys::ArrayBuffer>() else { return };
            match wire::decode::<LiveFrame>(&js_sys::Uint8Array::new(&buffer).to_vec()) {
                // Only the current socket's frames are shown (and keep it fresh).
                Ok(frame) => {
                    if with_stream(id, |s| s.link.frame(generation)) == Some(true) {
                        on_frame(frame);
                    }
                }
                Err(err) => leptos::logging::warn!("bad frame from /ws: {err}"),
            }
        });
        let on_close = Closure::<dyn FnMut()>::new(closed);
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let socket = Socket { ws, _on_message: on_message, _on_close: on_close };
        // The socket replaced (if any) is dropped here, detached and closed.
        let replaced = with_stream(id, |s| s.socket.replace(socket));
        drop(replaced);
    }
}

#[cfg(test)]
mod tests {
    use super::link::{Link, STALE_TICKS};

    /// What the badge says after each event of a stream whose frames stop, then come back.
    #[test]
    fn the_badge_follows_the_stream() {
        let mut link = Link::new();
        let mut said = vec![link.state().label()];
        let first = link.open();
        link.frame(first);
        said.push(link.state().label());
        for _ in 0..STALE_TICKS {
            link.tick();
        }
        said.push(link.state().label());
        let second = link.open();
        link.closed(second);
        said.push(link.state().label());
        let third = link.open();
        link.frame(third);
        said.push(link.state().label());
        assert_eq!(said, ["connecting…", "live", "stale", "reconnecting…", "live"]);
    }
}
