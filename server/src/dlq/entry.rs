//! What the store hands back: an [`Entry`] (a letter with its id and the time it was
//! dead-lettered), a [`Page`] of them with the store's counts, and each [`FailureRecord`].
//! The store's own types: the server maps them to the wire types at its edge.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// One failed attempt at handling a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailureRecord {
    /// A short label shared by similar failures (e.g. `out of range`), to group and count them.
    pub kind: String,
    /// The full reason for this attempt.
    pub reason: String,
    /// When the attempt failed, in milliseconds since the Unix epoch.
    pub at: u64,
}

/// A message in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Stable for the entry's life and never reused, even across restarts.
    pub id: u64,
    /// The message as JSON, exactly as it was dead-lettered; replay publishes it again.
    pub payload: Value,
    /// How many times the pipeline tried it before giving up.
    pub attempts: u32,
    /// Every failure, oldest first: the last one is why it was dead-lettered.
    pub failures: Vec<FailureRecord>,
    /// When its first attempt failed (Unix ms).
    pub first_failed_at: u64,
    /// When the store committed it (Unix ms).
    pub dead_lettered_at: u64,
    /// Where it came from (e.g. the topic), if the pipeline said.
    pub source: Option<String>,
}

impl Entry {
    /// The payload as the type it was published as, to replay it typed.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }

    /// The reason it was dead-lettered: the last failure's, if any was recorded.
    pub fn last_reason(&self) -> Option<&str> {
        self.failures.last().map(|f| f.reason.as_str())
    }
}

/// One page of the queue, newest first, with the counts that say how full it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// Newest first; the next page is `list(Some(last id), ..)`.
    pub entries: Vec<Entry>,
    /// Entries in the queue now (all pages).
    pub total: u64,
    /// Entries evicted since the store was created because it was full.
    pub evicted: u64,
    /// The most entries the queue keeps.
    pub capacity: u64,
}
