//! WebSocket metrics: sockets open, messages and bytes sent. Plain atomics bumped by `ws.rs`,
//! read by the sampler and the exporter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters for `/ws`.
#[derive(Debug, Default)]
pub struct SocketMetrics {
    open: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
}

/// Holds one socket open in the count; dropping it closes it.
#[derive(Debug)]
pub struct OpenSocket(Arc<SocketMetrics>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
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
    }
}
