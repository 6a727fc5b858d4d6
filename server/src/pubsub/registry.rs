//! Who receives what: the subscribers by id, the resolved route of each topic (exact and
//! wildcard subscribers, cached copy-on-write), and the bounded per-topic publish counters.
//!
//! The hub keeps this behind one `RwLock`. A publish takes the read lock and clones one `Arc`
//! (its topic's [`Route`]); only the first publish on a topic after a subscribe or unsubscribe
//! resolves it again (a scan of the subscribers' patterns) and caches it under the write lock.
//! Nothing grows without bound: empty routes are never cached (publishing to many topics nobody
//! receives adds nothing), the route cache is emptied past [`ROUTE_CACHE`] topics, and only
//! [`COUNTED_TOPICS`] topics that had subscribers get their own counter; every other publish is
//! summed under [`OTHER`].

use super::SubscriberId;
use super::buffer::Buffer;
use super::stats::{PubSubStats, SubscriberStats, TopicStats};
use super::topic::Pattern;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Most topics whose resolved subscriber list is cached at once.
pub(crate) const ROUTE_CACHE: usize = 1_024;
/// Most topics with their own publish counter.
pub(crate) const COUNTED_TOPICS: usize = 256;
/// The stats' name for publishes on topics without their own counter.
pub const OTHER: &str = "(other)";

/// One subscription as the hub sees it. Routes hold clones; when the last one is dropped
/// (unsubscribed or hub closed, and no publish still using it) the subscription's stream ends.
pub(crate) struct Entry<T> {
    pub(crate) id: SubscriberId,
    pub(crate) name: String,
    pub(crate) patterns: Vec<Pattern>,
    pub(crate) buffer: Arc<Buffer<T>>,
}

impl<T> Drop for Entry<T> {
    fn drop(&mut self) {
        self.buffer.end();
    }
}

/// A topic's resolved subscribers (each once, even if several of its patterns match) and its
/// publish counter.
pub(crate) struct Route<T> {
    pub(crate) subscribers: Box<[Arc<Entry<T>>]>,
    pub(crate) published: Arc<AtomicU64>,
}

pub(crate) struct Registry<T> {
    entries: BTreeMap<SubscriberId, Arc<Entry<T>>>,
    routes: HashMap<Box<str>, Arc<Route<T>>>,
    published: HashMap<Box<str>, Arc<AtomicU64>>,
    other: Arc<AtomicU64>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
            routes: HashMap::new(),
            published: HashMap::new(),
            other: Arc::default(),
        }
    }
}

impl<T> Registry<T> {
    /// The cached route of `topic`, if it has one.
    pub(crate) fn cached(&self, topic: &str) -> Option<Arc<Route<T>>> {
        self.routes.get(topic).cloned()
    }

    /// Whether any open subscriber receives `topic` (scans the patterns).
    pub(crate) fn has_subscribers(&self, topic: &str) -> bool {
        self.entries.values().any(|e| e.buffer.is_open() && e.patterns.iter().any(|p| p.matches(topic)))
    }

    /// Counts a publish on a topic nobody receives.
    pub(crate) fn count_other(&self, n: usize) {
        self.other.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn resolve(&self, topic: &str) -> Box<[Arc<Entry<T>>]> {
        self.entries
            .values()
            .filter(|e| e.buffer.is_open() && e.patterns.iter().any(|p| p.matches(topic)))
            .cloned()
            .collect()
    }

    /// Resolves `topic` and caches its route; `None` (and nothing cached) if nobody receives it.
    pub(crate) fn route(&mut self, topic: &str) -> Option<Arc<Route<T>>> {
        if let Some(route) = self.routes.get(topic) {
            return Some(route.clone());
        }
        let subscribers = self.resolve(topic);
        if subscribers.is_empty() {
            return None;
        }
        let published = match self.published.get(topic) {
            Some(counter) => counter.clone(),
            None if self.published.len() < COUNTED_TOPICS => {
                self.published.entry(topic.into()).or_default().clone()
            }
            None => self.other.clone(),
        };
        if self.routes.len() >= ROUTE_CACHE {
            self.routes.clear();
        }
        let route = Arc::new(Route { subscribers, published });
        self.routes.insert(topic.into(), route.clone());
        Some(route)
    }

    pub(crate) fn add(&mut self, entry: Entry<T>) {
        self.entries.insert(entry.id, Arc::new(entry));
        self.routes.clear();
    }

    /// Forgets a subscriber; `false` if it was not subscribed.
    pub(crate) fn remove(&mut self, id: SubscriberId) -> bool {
        let found = self.entries.remove(&id).is_some();
        if found {
            self.routes.clear();
        }
        found
    }

    /// Forgets the subscribers whose receiver closed.
    pub(crate) fn prune(&mut self) {
        self.entries.retain(|_, e| e.buffer.is_open());
        self.routes.clear();
    }

    /// Forgets every subscriber (the hub closed); the counters stay for the stats.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.routes.clear();
    }

    /// Topics whose route is cached now (tests check the bound).
    #[cfg(test)]
    pub(crate) fn cached_routes(&self) -> usize {
        self.routes.len()
    }

    /// Open subscribers receiving `topic`.
    pub(crate) fn count(&self, topic: &str) -> usize {
        self.resolve(topic).len()
    }

    pub(crate) fn stats(&self) -> PubSubStats {
        let mut names: BTreeSet<&str> = self.published.keys().map(|t| &**t).collect();
        for entry in self.entries.values() {
            names.extend(entry.patterns.iter().filter(|p| !p.is_wildcard()).map(Pattern::as_str));
        }
        let mut topics: Vec<TopicStats> = names
            .into_iter()
            .map(|topic| TopicStats {
                topic: topic.to_owned(),
                subscribers: self.count(topic) as u32,
                published: self.published.get(topic).map_or(0, |c| c.load(Ordering::Relaxed)),
            })
            .collect();
        let other = self.other.load(Ordering::Relaxed);
        if other > 0 {
            topics.push(TopicStats { topic: OTHER.to_owned(), subscribers: 0, published: other });
        }
        let subscribers = self.entries.values().map(|e| subscriber_stats(e)).collect();
        PubSubStats { topics, subscribers }
    }
}

fn subscriber_stats<T>(entry: &Entry<T>) -> SubscriberStats {
    let counts = entry.buffer.counts();
    SubscriberStats {
        id: entry.id.get(),
        name: entry.name.clone(),
        patterns: entry.patterns.iter().map(|p| p.as_str().to_owned()).collect(),
        capacity: entry.buffer.capacity as u64,
        buffered: counts.buffered,
        overflow: entry.buffer.overflow,
        delivered: counts.delivered,
        lost: counts.lost,
    }
}
