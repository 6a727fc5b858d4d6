//! The hub's view of itself ([`PubSub::stats`](super::PubSub::stats)): topics, subscribers,
//! their buffers and what they lost. The server maps it to the wire type at its edge.

use super::Overflow;

/// One topic that has subscribers or has been published on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicStats {
    pub topic: String,
    /// Subscribers receiving it now (exact and wildcard).
    pub subscribers: u32,
    /// Messages published on it since start.
    pub published: u64,
}

/// One subscriber and its bounded buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriberStats {
    /// Stable for the subscriber's life; what `unsubscribe` takes.
    pub id: u64,
    /// Who subscribed (e.g. `pipeline`, `demo tap`).
    pub name: String,
    /// Topics or wildcard patterns it receives.
    pub patterns: Vec<String>,
    /// Buffer size, in messages.
    pub capacity: u64,
    /// Messages waiting in the buffer now.
    pub buffered: u64,
    /// What a full buffer does.
    pub overflow: Overflow,
    /// Messages handed to it since it subscribed.
    pub delivered: u64,
    /// Messages it lost (full buffer under a dropping policy, or sent after it left).
    pub lost: u64,
}

/// The whole hub.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PubSubStats {
    pub topics: Vec<TopicStats>,
    pub subscribers: Vec<SubscriberStats>,
}
