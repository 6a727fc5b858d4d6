//! One subscriber's bounded buffer: the publishing side ([`Subscriber`]) and the receiving side
//! ([`Subscription`]).
//!
//! The bound is counted in messages with a semaphore: a publisher takes one permit per message
//! before sending its chunk, the subscription gives them back as it receives. The channel itself
//! is unbounded, so a chunk moves in one hand-off, yet no more than `capacity` messages ever wait.

use super::{Overflow, SubscribeConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};

/// A chunk of messages as published, stamped once (stamping each message costs ~26 ns).
#[derive(Debug)]
pub struct Delivery<T> {
    /// The messages, in publish order.
    pub items: Vec<T>,
    /// When the chunk was published: the start of every message's latency.
    pub published_at: Instant,
}

/// The hub's side of a subscription.
pub(crate) struct Subscriber<T> {
    tx: mpsc::UnboundedSender<Delivery<T>>,
    permits: Arc<Semaphore>,
    capacity: usize,
    overflow: Overflow,
    lost: Arc<AtomicU64>,
}

impl<T> Clone for Subscriber<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            permits: self.permits.clone(),
            capacity: self.capacity,
            overflow: self.overflow,
            lost: self.lost.clone(),
        }
    }
}

/// The receiving end. Dropping it unsubscribes; messages still addressed to it are counted lost.
pub struct Subscription<T> {
    rx: mpsc::UnboundedReceiver<Delivery<T>>,
    permits: Arc<Semaphore>,
    capacity: usize,
    lost: Arc<AtomicU64>,
}

pub(crate) fn pair<T>(config: SubscribeConfig) -> (Subscriber<T>, Subscription<T>) {
    let capacity = config.capacity.clamp(1, Semaphore::MAX_PERMITS);
    let (tx, rx) = mpsc::unbounded_channel();
    let permits = Arc::new(Semaphore::new(capacity));
    let subscriber = Subscriber {
        tx,
        permits: permits.clone(),
        capacity,
        overflow: config.overflow,
        lost: config.lost.clone(),
    };
    let subscription = Subscription { rx, permits, capacity, lost: config.lost };
    (subscriber, subscription)
}

impl<T> Subscriber<T> {
    pub(crate) fn is_open(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Delivers `items` under the overflow policy; returns how many were dropped.
    pub(crate) async fn deliver(&self, mut items: Vec<T>) -> u64 {
        let published_at = Instant::now();
        let mut dropped = 0u64;
        while !items.is_empty() {
            let rest = if items.len() > self.capacity { items.split_off(self.capacity) } else { Vec::new() };
            let n = items.len();
            let granted = match self.overflow {
                Overflow::Block => match self.permits.acquire_many(n as u32).await {
                    Ok(p) => {
                        p.forget();
                        n
                    }
                    Err(_) => 0, // subscription dropped
                },
                Overflow::DropNewest => {
                    let room = self.permits.available_permits().min(n);
                    match self.permits.try_acquire_many(room as u32) {
                        Ok(p) if room > 0 => {
                            p.forget();
                            room
                        }
                        _ => 0,
                    }
                }
            };
            items.truncate(granted);
            let lost_here = (n - granted) as u64;
            let lost_send = if granted > 0 {
                match self.tx.send(Delivery { items, published_at }) {
                    Ok(()) => 0,
                    Err(mpsc::error::SendError(d)) => d.items.len() as u64,
                }
            } else {
                0
            };
            dropped += lost_here + lost_send;
            items = rest;
        }
        if dropped > 0 {
            self.lost.fetch_add(dropped, Ordering::Relaxed);
        }
        dropped
    }
}

impl<T> Subscription<T> {
    /// The next chunk, or `None` once the hub is closed and the buffer is drained.
    pub async fn recv(&mut self) -> Option<Delivery<T>> {
        let delivery = self.rx.recv().await?;
        self.permits.add_permits(delivery.items.len());
        Some(delivery)
    }

    /// Polls for the next chunk (`Ready(None)` once the hub is closed and the buffer drained).
    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Delivery<T>>> {
        let polled = self.rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(delivery)) = &polled {
            self.permits.add_permits(delivery.items.len());
        }
        polled
    }

    /// The next chunk if one is waiting now.
    pub fn try_recv(&mut self) -> Option<Delivery<T>> {
        let delivery = self.rx.try_recv().ok()?;
        self.permits.add_permits(delivery.items.len());
        Some(delivery)
    }

    /// Stops new deliveries (publishers see this subscriber as gone; one blocked waiting for
    /// room counts its messages as lost) while what is buffered can still be received.
    pub fn close(&mut self) {
        self.permits.close();
        self.rx.close();
    }

    /// A reading of how many messages wait in the buffer now.
    pub fn gauge(&self) -> Arc<dyn Fn() -> u64 + Send + Sync> {
        let (permits, capacity) = (self.permits.clone(), self.capacity);
        Arc::new(move || capacity.saturating_sub(permits.available_permits()) as u64)
    }

    /// Messages this subscription has lost so far (full buffer, or addressed to it after it was
    /// dropped).
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        // Wake blocked publishers: their acquire fails and they count the messages as lost.
        self.permits.close();
        self.rx.close();
        let mut lost = 0;
        while let Ok(d) = self.rx.try_recv() {
            lost += d.items.len() as u64;
        }
        if lost > 0 {
            self.lost.fetch_add(lost, Ordering::Relaxed);
        }
    }
}
