//! The hub's handle: subscribing, the broadcasts, closing and stats.
//!
//! Every broadcast goes through `PubSub::dispatch`, and its `Scope` is looked at in one
//! place, `PubSub::forward`. Embedded, forwarding does nothing and `broadcast` equals
//! `local_broadcast`. With the Redis bus a [`Forwarder`] is set ([`PubSub::forward_to`]):
//! cluster-scoped broadcasts go to it (the Redis bus publishes them on one Redis channel, and
//! each other node delivers them with `local_broadcast`); local-scoped ones never leave the
//! node.

use super::buffer::Buffer;
use super::registry::{Entry, Registry, Route};
use super::stats::PubSubStats;
use super::topic::{Pattern, validate_topic};
use super::{Overflow, PubSubError, Published, SubscribeConfig, SubscriberId, Subscription};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

/// Cheap-clone handle to the hub.
pub struct PubSub<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for PubSub<T> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

pub(crate) struct Shared<T> {
    registry: RwLock<Registry<T>>,
    closed: AtomicBool,
    next_id: AtomicU64,
    /// Where cluster-scoped broadcasts go besides this node's subscribers (redis mode).
    forwarder: OnceLock<Forwarder<T>>,
}

/// Told every cluster-scoped broadcast (its topic and items) before it is delivered here. Must
/// not block: it runs on the publisher's task.
pub type Forwarder<T> = Arc<dyn Fn(&str, &[T]) + Send + Sync>;

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, Registry<T>> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Registry<T>> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets subscriber `id`; `false` if it was not subscribed.
    pub(crate) fn forget(&self, id: SubscriberId) -> bool {
        self.write().remove(id)
    }
}

/// Who a broadcast is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Every node's subscribers (`broadcast`, `broadcast_from`, `try_broadcast`).
    Cluster,
    /// This node's subscribers only (`local_broadcast`).
    Local,
}

impl<T: Clone + Send + 'static> Default for PubSub<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> PubSub<T> {
    /// An empty hub.
    pub fn new() -> Self {
        let shared = Shared {
            registry: RwLock::default(),
            closed: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            forwarder: OnceLock::new(),
        };
        Self { shared: Arc::new(shared) }
    }

    /// Subscribes to one topic or wildcard pattern (`sensors.*`, `sensors.>`).
    pub fn subscribe(&self, pattern: &str, config: SubscribeConfig) -> Result<Subscription<T>, PubSubError> {
        self.subscribe_many(&[pattern], config)
    }

    /// Subscribes to several topics or patterns with one buffer: messages of all of them arrive
    /// on the one [`Subscription`], in the order they were queued, each once even where
    /// patterns overlap. Refuses an invalid pattern ([`PubSubError::InvalidTopic`]). Dropping
    /// the subscription unsubscribes. On a closed hub the subscription ends at once.
    pub fn subscribe_many(
        &self,
        patterns: &[&str],
        config: SubscribeConfig,
    ) -> Result<Subscription<T>, PubSubError> {
        let patterns = patterns.iter().map(|p| Pattern::parse(p)).collect::<Result<Vec<_>, _>>()?;
        let id = SubscriberId(self.shared.next_id.fetch_add(1, Ordering::Relaxed));
        let buffer = Arc::new(Buffer::new(config.capacity, config.overflow, config.lost));
        let subscription = Subscription::new(id, buffer.clone(), Arc::downgrade(&self.shared));
        let entry = Entry { id, name: config.name, patterns, buffer };
        let mut registry = self.shared.write();
        // Checked under the lock: `close` clears the registry under it, so no entry outlives it.
        if !self.shared.closed.load(Ordering::Acquire) {
            registry.add(entry);
        }
        Ok(subscription)
    }

    /// Stops deliveries to subscriber `id`: its subscription receives what is buffered, then
    /// ends. `false` if it was not subscribed.
    pub fn unsubscribe(&self, id: SubscriberId) -> bool {
        self.shared.forget(id)
    }

    /// Publishes `items` on `topic` to every subscriber, each under its overflow policy
    /// (`Block` subscribers make this wait for room). Cluster-wide once there are several
    /// nodes. The last subscriber receives the items themselves; the others receive clones.
    pub async fn broadcast(&self, topic: &str, items: Vec<T>) -> Result<Published, PubSubError> {
        self.dispatch(Scope::Cluster, None, topic, items).await
    }

    /// The former name of [`broadcast`](Self::broadcast): the same operation.
    pub async fn publish(&self, topic: &str, items: Vec<T>) -> Result<Published, PubSubError> {
        self.broadcast(topic, items).await
    }

    /// [`broadcast`](Self::broadcast) to everyone but subscriber `from` (a subscriber that
    /// publishes does not hear itself).
    pub async fn broadcast_from(
        &self,
        from: SubscriberId,
        topic: &str,
        items: Vec<T>,
    ) -> Result<Published, PubSubError> {
        self.dispatch(Scope::Cluster, Some(from), topic, items).await
    }

    /// [`broadcast`](Self::broadcast) to this node's subscribers only. Identical today (one
    /// node); see the module doc for what changes with several.
    pub async fn local_broadcast(&self, topic: &str, items: Vec<T>) -> Result<Published, PubSubError> {
        self.dispatch(Scope::Local, None, topic, items).await
    }

    /// A broadcast that never waits: if any `Block` subscriber lacks room for all of `items`,
    /// nobody receives anything and it fails with [`PubSubError::Full`] (answer 503 and retry);
    /// dropping subscribers follow their policy. Room is reserved on every `Block` subscriber
    /// before anything is delivered (and given back on failure), so concurrent publishers
    /// cannot take it in between.
    pub fn try_broadcast(&self, topic: &str, items: Vec<T>) -> Result<Published, PubSubError> {
        let route = self.route(topic, items.len())?;
        let Some(route) = route else {
            self.forward(Scope::Cluster, topic, &items);
            return Ok(Published::default());
        };
        let n = items.len();
        let targets: Vec<&Arc<Entry<T>>> = route.subscribers.iter().filter(|e| e.buffer.is_open()).collect();
        let mut reserved = vec![false; targets.len()];
        for (i, entry) in targets.iter().enumerate().filter(|(_, e)| e.buffer.overflow == Overflow::Block) {
            match entry.buffer.try_reserve(n) {
                Ok(ok) => reserved[i] = ok,
                Err(room) => {
                    targets.iter().zip(&reserved).filter(|(_, r)| **r).for_each(|(e, _)| e.buffer.release(n));
                    return Err(PubSubError::Full { topic: topic.to_owned(), needed: n, room });
                }
            }
        }
        // Forwarded only once accepted here: a refused publish goes nowhere.
        self.forward(Scope::Cluster, topic, &items);
        route.published.fetch_add(n as u64, Ordering::Relaxed);
        let published_at = Instant::now();
        let mut report = Published::default();
        let mut items = Some(items);
        let last = targets.len().saturating_sub(1);
        for (i, entry) in targets.iter().enumerate() {
            let block = entry.buffer.overflow == Overflow::Block;
            if block && !reserved[i] {
                continue; // its receiver closed before the reservation
            }
            let mine = if i == last { items.take() } else { items.clone() }.unwrap_or_default();
            report.subscribers += 1;
            report.dropped += if block {
                entry.buffer.commit(mine, published_at)
            } else {
                entry.buffer.push_dropping(mine, published_at)
            };
        }
        Ok(report)
    }

    /// Every broadcast: validate, forward by scope, deliver to this node's subscribers.
    async fn dispatch(
        &self,
        scope: Scope,
        from: Option<SubscriberId>,
        topic: &str,
        items: Vec<T>,
    ) -> Result<Published, PubSubError> {
        let route = self.route(topic, items.len())?;
        self.forward(scope, topic, &items);
        let Some(route) = route else { return Ok(Published::default()) };
        route.published.fetch_add(items.len() as u64, Ordering::Relaxed);
        let receives = |e: &&Arc<Entry<T>>| e.buffer.is_open() && Some(e.id) != from;
        let open = route.subscribers.iter().filter(receives).count();
        let published_at = Instant::now();
        let mut report = Published { subscribers: open, dropped: 0 };
        let mut left = open;
        let mut items = Some(items);
        for entry in route.subscribers.iter().filter(receives) {
            left -= 1;
            // The last subscriber receives the items themselves; the others receive clones.
            let mine = if left == 0 { items.take() } else { items.clone() }.unwrap_or_default();
            report.dropped += match entry.buffer.overflow {
                Overflow::Block => entry.buffer.push_blocking(mine, published_at).await,
                Overflow::DropNewest | Overflow::DropOldest => entry.buffer.push_dropping(mine, published_at),
            };
        }
        Ok(report)
    }

    /// Sends cluster-scoped broadcasts to `forwarder` from now on (set once; later calls are
    /// ignored).
    pub fn forward_to(&self, forwarder: Forwarder<T>) {
        let _ = self.shared.forwarder.set(forwarder);
    }

    /// The one place where [`Scope`] matters: `Scope::Cluster` broadcasts go to the
    /// forwarder, if there is one; `Scope::Local` ones never leave the node.
    fn forward(&self, scope: Scope, topic: &str, items: &[T]) {
        match scope {
            Scope::Cluster => {
                if let Some(forward) = self.shared.forwarder.get() {
                    forward(topic, items);
                }
            }
            Scope::Local => {}
        }
    }

    /// The topic's subscribers (`None`: nobody here receives it). Refused if the hub is closed
    /// or the topic invalid. A cache hit costs a read lock and one `Arc` clone.
    fn route(&self, topic: &str, n: usize) -> Result<Option<Arc<Route<T>>>, PubSubError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(PubSubError::Closed);
        }
        let registry = self.shared.read();
        if let Some(route) = registry.cached(topic) {
            drop(registry);
            if route.subscribers.iter().any(|e| !e.buffer.is_open()) {
                self.shared.write().prune(); // some receiver closed: resolve without it next time
            }
            return Ok(Some(route));
        }
        validate_topic(topic)?;
        if !registry.has_subscribers(topic) {
            registry.count_other(n);
            return Ok(None);
        }
        drop(registry);
        // Resolved again under the write lock: a subscribe may have happened meanwhile.
        let route = self.shared.write().route(topic);
        if route.is_none() {
            self.shared.read().count_other(n);
        }
        Ok(route)
    }

    /// Number of open subscribers receiving `topic` (exact and wildcard).
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.shared.read().count(topic)
    }

    /// Refuses every later publish and ends all subscriptions: subscribers still receive what
    /// is already buffered, then see the end of their stream. First step of the drain order.
    pub fn close(&self) {
        let mut registry = self.shared.write();
        self.shared.closed.store(true, Ordering::Release);
        registry.clear();
    }

    #[cfg(test)]
    pub(crate) fn cached_routes(&self) -> usize {
        self.shared.read().cached_routes()
    }

    /// Topics (subscribers, messages published) and subscribers (buffers, deliveries, losses).
    pub fn stats(&self) -> PubSubStats {
        self.shared.read().stats()
    }
}
