//! The topic hub: an in-process publish/subscribe bus with Phoenix.PubSub's surface
//! (`subscribe`, `unsubscribe`, `broadcast`, `broadcast_from`, `local_broadcast`) and bounded,
//! observable subscribers.
//!
//! # Layout
//! - `hub.rs`: the [`PubSub`] handle and every operation; the broadcast scopes (cluster or
//!   local) differ in one function, ready for nodes sharing work through Redis.
//! - `topic.rs`: topic names and NATS-style patterns: `*` is one segment, `>` (last) one or
//!   more (`sensors.*`, `sensors.>`).
//! - `registry.rs`: subscribers by id, each topic's resolved subscriber list (cached,
//!   copy-on-write: a publish clones one `Arc`), bounded per-topic counters, [`PubSub::stats`].
//! - `buffer.rs`: one subscriber's buffer, bounded in messages, with its [`Overflow`] policy.
//! - `subscription.rs`: the receiving end, [`Subscription`], and [`Delivery`].
//!
//! # Buffers and losses
//! Each subscriber's buffer holds at most `capacity` messages, whatever the publishers do.
//! When it is full, its [`Overflow`] policy decides: [`Overflow::Block`] makes the publisher wait
//! ([`PubSub::try_broadcast`] fails instead, all-or-nothing), [`Overflow::DropNewest`] drops what
//! does not fit, [`Overflow::DropOldest`] drops the oldest buffered messages to make room. Every
//! lost message is counted, per subscriber and on the subscription's `lost` counter; nothing
//! is lost silently. Chunks travel whole: one hand-off per publish, not per message (see
//! `docs/performance.md`: per-message hand-off costs ~110 ns, a chunk amortises it).

mod buffer;
mod hub;
mod registry;
mod stats;
mod subscription;
mod topic;

pub use hub::{Forwarder, PubSub};
pub use registry::OTHER;
pub use stats::{PubSubStats, SubscriberStats, TopicStats};
pub use subscription::{Delivery, Subscription};

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// What a subscriber's full buffer does to new messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Wait for room: no message is lost, the publisher slows down.
    Block,
    /// Drop what does not fit and count it as lost: the buffer keeps the oldest messages.
    DropNewest,
    /// Drop the oldest buffered messages (counted as lost) to make room: the buffer keeps the
    /// newest, for subscribers that want the latest state rather than every message.
    DropOldest,
}

/// How to subscribe.
#[derive(Clone, Debug)]
pub struct SubscribeConfig {
    /// Who subscribes, as shown in the stats (e.g. `pipeline`).
    pub name: String,
    /// Buffer size in messages (at least 1); a publish larger than this reaches a `Block`
    /// subscriber in several chunks.
    pub capacity: usize,
    /// What happens when the buffer is full.
    pub overflow: Overflow,
    /// Where lost messages are counted as well (shared so the owner can report them, e.g. the
    /// ledger's "pipeline buffer full").
    pub lost: Arc<AtomicU64>,
}

impl SubscribeConfig {
    /// A blocking subscription named `subscriber` with a buffer of `capacity` messages.
    pub fn blocking(capacity: usize) -> Self {
        Self { name: "subscriber".into(), capacity, overflow: Overflow::Block, lost: Arc::default() }
    }

    /// A subscription of `capacity` messages under `overflow`.
    pub fn with_overflow(capacity: usize, overflow: Overflow) -> Self {
        Self { overflow, ..Self::blocking(capacity) }
    }

    /// The same, shown as `name` in the stats.
    pub fn named(self, name: impl Into<String>) -> Self {
        Self { name: name.into(), ..self }
    }
}

/// A subscriber's identity, stable for its life: what `unsubscribe` and `broadcast_from` take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(u64);

impl SubscriberId {
    /// The number shown in the stats.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for SubscriberId {
    /// The id as the stats show it (server functions receive it as a number).
    fn from(id: u64) -> Self {
        Self(id)
    }
}

/// Why a publish or subscribe was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PubSubError {
    /// The hub is closed (the server is shutting down): nothing was delivered.
    #[error("pub/sub is closed")]
    Closed,
    /// The topic or pattern is malformed, or a pattern was given where a topic is needed.
    #[error("invalid topic: {0}")]
    InvalidTopic(String),
    /// `try_broadcast` only: a blocking subscriber lacks room, so nobody received anything.
    #[error("subscriber buffer full on {topic:?}: {needed} messages need room, {room} free")]
    Full {
        /// The topic published on.
        topic: String,
        /// Messages in the refused publish.
        needed: usize,
        /// Room the fullest blocking subscriber had.
        room: usize,
    },
}

/// What one publish did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Subscribers that received at least part of it.
    pub subscribers: usize,
    /// Messages lost across subscribers (dropping policies, or a receiver that closed).
    pub dropped: u64,
}

#[cfg(test)]
mod tests;
