//! The topic hub: an in-process publish/subscribe bus, the Rust counterpart of Phoenix.PubSub.
//!
//! A [`PubSub`] maps topic names to subscribers. Publishing hands a chunk of messages to every
//! subscriber of the topic. Each subscriber has a buffer bounded in *messages* (not chunks) and
//! an [`Overflow`] policy saying what happens when it is full:
//! - [`Overflow::Block`]: the publisher waits for room (back-pressure reaches the publisher);
//! - [`Overflow::DropNewest`]: what does not fit is dropped, and every dropped message is
//!   counted on the subscription's `lost` counter. Nothing is lost silently.
//!
//! Chunks travel whole: one channel hand-off per publish, not per message (see
//! `shared/PERFORMANCE.md`: per-message hand-off costs ~110 ns, a chunk amortises it).

mod subscription;

pub use subscription::{Delivery, Subscription};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use subscription::Subscriber;

/// What a subscriber's full buffer does to new messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Wait for room: no message is lost, the publisher slows down.
    Block,
    /// Drop what does not fit and count it on the subscription's `lost` counter.
    DropNewest,
}

/// How to subscribe.
#[derive(Clone, Debug)]
pub struct SubscribeConfig {
    /// Buffer size in messages; a publish larger than this is delivered in several chunks.
    pub capacity: usize,
    /// What happens when the buffer is full.
    pub overflow: Overflow,
    /// Where lost messages are counted (shared so the owner can report them).
    pub lost: Arc<AtomicU64>,
}

impl SubscribeConfig {
    /// A blocking subscription with a buffer of `capacity` messages.
    pub fn blocking(capacity: usize) -> Self {
        Self { capacity, overflow: Overflow::Block, lost: Arc::default() }
    }
}

/// Why a publish was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PubSubError {
    /// The hub is closed (the server is shutting down): nothing was delivered.
    #[error("pub/sub is closed")]
    Closed,
}

/// What one publish did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Subscribers that received at least part of it.
    pub subscribers: usize,
    /// Messages dropped across subscribers (`DropNewest` buffers that were full).
    pub dropped: u64,
}

/// Cheap-clone handle to the hub.
#[derive(Clone)]
pub struct PubSub<T> {
    shared: Arc<Shared<T>>,
}

/// Subscriber lists are copy-on-write: a publish clones one `Arc`, not every subscriber.
type Subscribers<T> = Arc<[Subscriber<T>]>;

struct Shared<T> {
    topics: RwLock<HashMap<String, Subscribers<T>>>,
    closed: AtomicBool,
}

impl<T: Clone + Send + 'static> Default for PubSub<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> PubSub<T> {
    /// An empty hub.
    pub fn new() -> Self {
        Self { shared: Arc::new(Shared { topics: RwLock::default(), closed: AtomicBool::new(false) }) }
    }

    /// Subscribes to `topic`. Dropping the [`Subscription`] unsubscribes.
    pub fn subscribe(&self, topic: &str, config: SubscribeConfig) -> Subscription<T> {
        self.subscribe_many(&[topic], config)
    }

    /// Subscribes to every topic in `topics` with one buffer: messages of all of them arrive
    /// on the one [`Subscription`], in the order they were published.
    pub fn subscribe_many(&self, topics: &[&str], config: SubscribeConfig) -> Subscription<T> {
        let (subscriber, subscription) = subscription::pair(config);
        if self.shared.closed.load(Ordering::Acquire) {
            return subscription; // drop the subscriber: the subscription ends at once
        }
        let mut all = self.write_topics();
        for topic in topics {
            let list = all.entry((*topic).to_owned()).or_insert_with(|| Arc::from([]));
            *list = list.iter().cloned().chain([subscriber.clone()]).collect();
        }
        subscription
    }

    /// Publishes `items` on `topic` to every subscriber, each under its overflow policy.
    /// The last subscriber receives the items themselves; the others receive clones.
    pub async fn publish(&self, topic: &str, items: Vec<T>) -> Result<Published, PubSubError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(PubSubError::Closed);
        }
        // Take the subscriber list (one `Arc`) so no lock is held while a blocking send waits.
        let subscribers: Option<Subscribers<T>> = {
            let topics = self.shared.topics.read().unwrap_or_else(|e| e.into_inner());
            topics.get(topic).cloned()
        };
        let mut report = Published::default();
        let Some(subscribers) = subscribers else { return Ok(report) };
        let open = subscribers.iter().filter(|s| s.is_open()).count();
        if open < subscribers.len() {
            self.prune(topic);
        }
        let mut left = open;
        let mut items = Some(items);
        for s in subscribers.iter().filter(|s| s.is_open()) {
            left -= 1;
            // The last subscriber receives the items themselves; the others receive clones.
            let mine =
                if left == 0 { items.take().unwrap_or_default() } else { items.clone().unwrap_or_default() };
            report.dropped += s.deliver(mine).await;
        }
        report.subscribers = open;
        Ok(report)
    }

    /// Number of live subscribers of `topic`.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        let topics = self.shared.topics.read().unwrap_or_else(|e| e.into_inner());
        topics.get(topic).map_or(0, |s| s.iter().filter(|s| s.is_open()).count())
    }

    /// Refuses every later publish and closes all subscriptions: subscribers still receive what
    /// is already buffered, then see the end of their stream. First step of the drain order.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.write_topics().clear();
    }

    fn write_topics(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Subscribers<T>>> {
        self.shared.topics.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets the topic's subscribers whose subscription was dropped.
    fn prune(&self, topic: &str) {
        let mut topics = self.write_topics();
        if let Some(list) = topics.get_mut(topic) {
            let open: Subscribers<T> = list.iter().filter(|s| s.is_open()).cloned().collect();
            if open.is_empty() {
                topics.remove(topic);
            } else {
                *list = open;
            }
        }
    }
}

#[cfg(test)]
mod tests;
