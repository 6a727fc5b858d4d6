//! The message that flows through the pipeline: data plus its status. Pure helpers only.

use std::time::Instant;

/// Why a message failed: a short `kind` it is counted under (e.g. `"temperature out of
/// range"`, `"panic"`) and the full `reason` shown to a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: &'static str,
    pub reason: String,
}

/// Where a message stands: still fine, or failed with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Ok,
    Failed(Failure),
}

/// One message: the data a handler works on, its status, and when it was published.
#[derive(Debug)]
pub struct Message<T> {
    /// The payload; handlers transform it in place.
    pub data: T,
    /// Ok until a handler (or a crash) fails it.
    pub status: Status,
    /// Publish time of the chunk it arrived in: the start of its publish→ack latency.
    pub published_at: Instant,
}

impl<T> Message<T> {
    /// A fresh, ok message.
    pub fn new(data: T, published_at: Instant) -> Self {
        Self { data, status: Status::Ok, published_at }
    }

    /// Marks the message failed; it will be acknowledged as failed and skip the batcher.
    pub fn failed(mut self, kind: &'static str, reason: impl Into<String>) -> Self {
        self.fail(kind, reason);
        self
    }

    /// In-place form of [`Message::failed`], for handlers that get `&mut Message`.
    pub fn fail(&mut self, kind: &'static str, reason: impl Into<String>) {
        self.status = Status::Failed(Failure { kind, reason: reason.into() });
    }

    /// Whether no handler has failed it.
    pub fn is_ok(&self) -> bool {
        matches!(self.status, Status::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_sets_kind_and_reason() {
        let m = Message::new(1, Instant::now()).failed("invalid", "too big");
        assert!(!m.is_ok());
        assert_eq!(m.status, Status::Failed(Failure { kind: "invalid", reason: "too big".into() }));
    }

    #[test]
    fn new_messages_are_ok() {
        assert!(Message::new("x", Instant::now()).is_ok());
    }
}
