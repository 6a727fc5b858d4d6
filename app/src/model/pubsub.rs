//! The pub/sub's view of itself: topics, subscribers, their buffers and what they lost.
//! Filled by the server's `PubSub::stats`, shown by the dashboard's pub/sub tab.

use serde::{Deserialize, Serialize};

/// What a subscriber's full buffer does to a new message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowPolicy {
    /// The publisher waits for room: nothing is lost, publishing slows down.
    #[default]
    Block,
    /// The new message is dropped and counted as lost.
    DropNewest,
    /// The oldest buffered message is dropped (and counted) to make room.
    DropOldest,
}

impl OverflowPolicy {
    /// The label the UI shows.
    pub fn label(self) -> &'static str {
        match self {
            OverflowPolicy::Block => "block",
            OverflowPolicy::DropNewest => "drop newest",
            OverflowPolicy::DropOldest => "drop oldest",
        }
    }
}

/// One topic that has subscribers or has been published on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicStats {
    /// The topic's name, e.g. `events` or `sensors.temperature`.
    pub topic: String,
    /// Subscribers receiving it now (exact and wildcard).
    pub subscribers: u32,
    /// Messages published on it since start.
    pub published: u64,
}

/// One subscriber and its bounded buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberStats {
    /// Stable for the subscriber's life; what `unsubscribe` takes.
    pub id: u64,
    /// Who subscribed (e.g. `pipeline`, `demo tap`).
    pub name: String,
    /// Topics or wildcard patterns (`sensors.*`) it receives.
    pub patterns: Vec<String>,
    /// Buffer size, in messages.
    pub capacity: u64,
    /// Messages waiting in the buffer now.
    pub buffered: u64,
    /// What a full buffer does.
    pub overflow: OverflowPolicy,
    /// Messages handed to it since it subscribed.
    pub delivered: u64,
    /// Messages it lost (full buffer under a dropping policy, or sent after it left).
    pub lost: u64,
}

/// The whole pub/sub.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PubSubStats {
    pub topics: Vec<TopicStats>,
    pub subscribers: Vec<SubscriberStats>,
}
