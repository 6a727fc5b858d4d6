//! The receiving end of a subscription: chunks come out whole, in the order they were queued.

use super::SubscriberId;
use super::buffer::Buffer;
use super::hub::Shared;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Instant;

/// A chunk of messages as published, stamped once (stamping each message costs ~26 ns).
#[derive(Debug)]
pub struct Delivery<T> {
    /// The messages, in publish order.
    pub items: Vec<T>,
    /// When the chunk was published: the start of every message's latency.
    pub published_at: Instant,
}

/// The receiving end. Dropping it unsubscribes; messages still buffered are counted lost.
pub struct Subscription<T> {
    id: SubscriberId,
    buffer: Arc<Buffer<T>>,
    /// To unsubscribe on drop, without keeping the hub alive.
    hub: Weak<Shared<T>>,
}

impl<T> Subscription<T> {
    pub(crate) fn new(id: SubscriberId, buffer: Arc<Buffer<T>>, hub: Weak<Shared<T>>) -> Self {
        Self { id, buffer, hub }
    }

    /// Who this is to the hub: what [`PubSub::unsubscribe`](super::PubSub::unsubscribe) and
    /// [`PubSub::broadcast_from`](super::PubSub::broadcast_from) take.
    pub fn id(&self) -> SubscriberId {
        self.id
    }

    /// The next chunk, or `None` once the subscription ended (hub closed, unsubscribed or
    /// [`close`](Self::close)d) and the buffer is drained.
    pub async fn recv(&mut self) -> Option<Delivery<T>> {
        std::future::poll_fn(|cx| self.buffer.poll_pop(cx)).await
    }

    /// Polls for the next chunk (`Ready(None)` once ended and drained); `Pending` arranges for
    /// `cx`'s waker to be woken when a chunk arrives or the subscription ends.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery<T>>> {
        self.buffer.poll_pop(cx)
    }

    /// The next chunk if one is waiting now.
    pub fn try_recv(&mut self) -> Option<Delivery<T>> {
        self.buffer.try_pop()
    }

    /// Stops new deliveries (publishers see this subscriber as gone; one blocked waiting for
    /// room counts its messages as lost) while what is buffered can still be received.
    pub fn close(&mut self) {
        self.buffer.close();
    }

    /// A reading of how many messages wait in the buffer now.
    pub fn gauge(&self) -> Arc<dyn Fn() -> u64 + Send + Sync>
    where
        T: Send + 'static,
    {
        let buffer = self.buffer.clone();
        Arc::new(move || buffer.buffered())
    }

    /// Messages this subscription has lost so far (full buffer under a dropping policy, sent
    /// while it closed, or still buffered when it was dropped).
    pub fn lost(&self) -> u64 {
        self.buffer.counts().lost
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        // Blocked publishers wake, see it closed and count their messages as lost.
        self.buffer.abandon();
        if let Some(hub) = self.hub.upgrade() {
            hub.forget(self.id);
        }
    }
}
