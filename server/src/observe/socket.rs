//! Connection and WebSocket metrics: HTTP connections open and refused past the cap (bumped by
//! `serve.rs`), sockets open, messages and bytes sent, clients dropped for not reading (bumped
//! by `ws.rs`). Plain atomics, read by the sampler and the exporter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters for `/ws`.
#[derive(Debug, Default)]
pub struct SocketMetrics {
    open: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    dropped_slow: AtomicU64,
    connections: AtomicU64,
    refused: AtomicU64,
}

/// Holds one socket open in the count; dropping it closes it.
#[derive(Debug)]
pub struct OpenSocket(Arc<SocketMetrics>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Holds one HTTP connection open in the count.
#[derive(Debug)]
pub struct OpenConnection(Arc<SocketMetrics>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SocketMetrics {
    /// Counts a socket as open until the guard is dropped.
    pub fn opened(self: &Arc<Self>) -> OpenSocket {
        self.open.fetch_add(1, Ordering::Relaxed);
        OpenSocket(self.clone())
    }

    /// Counts one message of `bytes` sent.
    pub fn sent(&self, bytes: usize) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts a live-stream client dropped because it stopped reading.
    pub fn dropped_slow(&self) {
        self.dropped_slow.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an HTTP connection as open until the guard is dropped.
    pub fn connection(self: &Arc<Self>) -> OpenConnection {
        self.connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.clone())
    }

    /// Counts a connection refused past `--max-connections`.
    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// (HTTP connections open, refused past the cap, stream clients dropped for not reading).
    pub fn limits(&self) -> (u64, u64, u64) {
        (
            self.connections.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.dropped_slow.load(Ordering::Relaxed),
        )
    }

    /// (open sockets, messages sent, bytes sent).
    pub fn read(&self) -> (u64, u64, u64) {
        (
            self.open.load(Ordering::Relaxed),
            self.messages.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_count_follows_the_guard() {
        let m = Arc::new(SocketMetrics::default());
        let a = m.opened();
        let b = m.opened();
        m.sent(100);
        m.sent(20);
        assert_eq!(m.read(), (2, 2, 120));
        drop(a);
        drop(b);
        assert_eq!(m.read().0, 0);
        let c = m.connection();
        m.refused();
        m.dropped_slow();
        assert_eq!(m.limits(), (1, 1, 1));
        drop(c);
        assert_eq!(m.limits(), (0, 1, 1));
    }
}
