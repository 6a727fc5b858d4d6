//! The message that flows through the pipeline: data, metadata, status and routing (batcher,
//! batch key). Plain data plus pure helpers, as Broadway's `Message` is.

use std::borrow::Cow;
use std::time::Instant;

/// Name of the batcher a message goes to unless a handler routes it with
/// [`Message::put_batcher`].
pub const DEFAULT_BATCHER: &str = "default";

/// Why a message failed: a short `kind` it is counted under (e.g. `"temperature out of
/// range"`, `"panic"`) and the full `reason` shown to a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: &'static str,
    pub reason: String,
    /// Retrying cannot help (invalid data): the retry policy skips it. Failures are
    /// transient by default (a panic, a crashed stage, a downstream error).
    pub permanent: bool,
}

/// Metadata key under which each earlier failed attempt is kept (`"kind: reason"`, oldest
/// first), so a dead letter carries every failure reason.
pub const PREVIOUS_FAILURE: &str = "previous failure";

/// The metadata key of a message's cluster-wide id, set by a producer whose source has one
/// (the Redis bus: `<entry id>/<index>`), read by whoever must name the event later (the
/// dead-letter queue tells the bus which events' letters are committed).
pub const EVENT_ID: &str = "event id";

/// Where a message stands: still fine, or failed with its reason. The failure is boxed: it is
/// rare, and a small message moves faster between stages.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Ok,
    Failed(Box<Failure>),
}

/// Groups messages inside one batcher: a batch only ever holds messages of one key, and one
/// key's batches are handled one after another by the same batch processor.
pub type BatchKey = Cow<'static, str>;

/// Producer-specific facts about a message (its topic, an id, ...). Empty by default and one
/// pointer wide (messages move between stages, so their size matters); a handful of entries
/// at most, so a vector beats a map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(clippy::box_collection)] // a `Box<[_]>` would be a fat pointer: 16 bytes, not 8
pub struct Metadata(Option<Box<Vec<(&'static str, String)>>>);

impl Metadata {
    /// The value stored under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.as_ref()?.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// Every value stored under `key` with [`Metadata::push`], in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().flat_map(|e| e.iter()).filter(move |(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// Adds `value` under `key`, keeping earlier values (a history).
    pub fn push(&mut self, key: &'static str, value: impl Into<String>) {
        self.0.get_or_insert_with(Box::default).push((key, value.into()));
    }

    /// Stores `value` under `key`, replacing an earlier value.
    pub fn insert(&mut self, key: &'static str, value: impl Into<String>) {
        let value = value.into();
        let entries = self.0.get_or_insert_with(Box::default);
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
    }
}

/// One message: what a handler works on, what it decided, and where it goes next.
#[derive(Debug)]
pub struct Message<T> {
    /// The payload; handlers transform it in place.
    pub data: T,
    /// Facts the producer attached.
    pub metadata: Metadata,
    /// Ok until a handler (or a crash) fails it.
    pub status: Status,
    /// The batcher it is routed to ([`DEFAULT_BATCHER`] unless changed).
    pub batcher: &'static str,
    /// Its batch key inside that batcher (`"default"` unless changed).
    pub batch_key: BatchKey,
    /// When it was published: the start of its publish→processed and publish→ack latency.
    /// Stamped once per published chunk (a clock read costs ~26 ns here).
    pub published_at: Instant,
    /// Set by [`Message::ack_immediately`]; the processor acknowledges it right after
    /// `handle_message`, and nothing acknowledges it again.
    pub(crate) ack_now: bool,
    /// Already acknowledged: later stages must not acknowledge it again.
    pub(crate) acked: bool,
    /// Failed attempts before this one (0 on the first); retries count up.
    pub(crate) retries: u16,
}

impl<T> Message<T> {
    /// A fresh, ok message for the default batcher.
    pub fn new(data: T, published_at: Instant) -> Self {
        Self {
            data,
            metadata: Metadata::default(),
            status: Status::Ok,
            batcher: DEFAULT_BATCHER,
            batch_key: Cow::Borrowed(DEFAULT_BATCHER),
            published_at,
            ack_now: false,
            acked: false,
            retries: 0,
        }
    }

    /// Marks the message failed; it skips the batchers and is acknowledged as failed after
    /// `handle_failed`.
    pub fn failed(mut self, kind: &'static str, reason: impl Into<String>) -> Self {
        self.fail(kind, reason);
        self
    }

    /// In-place form of [`Message::failed`], for handlers that get `&mut Message`.
    pub fn fail(&mut self, kind: &'static str, reason: impl Into<String>) {
        self.status = Status::Failed(Box::new(Failure { kind, reason: reason.into(), permanent: false }));
    }

    /// Marks the message failed for good: the retry policy (if any) does not retry it.
    pub fn fail_permanently(&mut self, kind: &'static str, reason: impl Into<String>) {
        self.status = Status::Failed(Box::new(Failure { kind, reason: reason.into(), permanent: true }));
    }

    /// Which attempt this is: 1 the first time, 2 on the first retry, ...
    pub fn attempt(&self) -> u32 {
        u32::from(self.retries) + 1
    }

    /// Readies a failed message for another attempt: its failure joins the history in its
    /// metadata ([`PREVIOUS_FAILURE`]), its status and routing start afresh.
    pub(crate) fn reset_for_retry(&mut self) {
        if let Status::Failed(f) = std::mem::take(&mut self.status) {
            self.metadata.push(PREVIOUS_FAILURE, format!("{}: {}", f.kind, f.reason));
        }
        self.retries = self.retries.saturating_add(1);
        self.batcher = DEFAULT_BATCHER;
        self.batch_key = Cow::Borrowed(DEFAULT_BATCHER);
        self.ack_now = false;
        self.acked = false;
    }

    /// Routes the message to the batcher named `batcher` (it must exist in the pipeline's
    /// config; a message routed to an unknown batcher fails with kind `"unknown batcher"`).
    pub fn put_batcher(mut self, batcher: &'static str) -> Self {
        self.batcher = batcher;
        self
    }

    /// Sets the message's batch key inside its batcher.
    pub fn put_batch_key(mut self, key: impl Into<BatchKey>) -> Self {
        self.batch_key = key.into();
        self
    }

    /// Acknowledges the message as soon as `handle_message` returns, with its status then,
    /// instead of at the end of the pipeline. It still flows on to its batcher.
    pub fn ack_immediately(&mut self) {
        self.ack_now = true;
    }

    /// Whether it has the same batch key as `other` (cheap when both borrow the same name).
    pub(crate) fn same_key(&self, other: &BatchKey) -> bool {
        let (a, b) = (self.batch_key.as_ref(), other.as_ref());
        std::ptr::eq(a, b) || a == b
    }

    /// Whether no handler has failed it.
    pub fn is_ok(&self) -> bool {
        matches!(self.status, Status::Ok)
    }

    /// The failure, if it failed.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.status {
            Status::Failed(f) => Some(f),
            Status::Ok => None,
        }
    }

    /// Every failure so far as (kind, reason), oldest first: the earlier attempts' (kept in
    /// [`PREVIOUS_FAILURE`] metadata as `kind: reason`), then this one's. What a dead letter
    /// records.
    pub fn failures(&self) -> Vec<(String, String)> {
        let mut failures: Vec<(String, String)> = self
            .metadata
            .get_all(PREVIOUS_FAILURE)
            .map(|f| match f.split_once(": ") {
                Some((kind, reason)) => (kind.to_owned(), reason.to_owned()),
                None => (f.to_owned(), f.to_owned()),
            })
            .collect();
        if let Some(f) = self.failure() {
            failures.push((f.kind.to_owned(), f.reason.clone()));
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_messages_are_ok_and_go_to_the_default_batcher() {
        let m = Message::new("x", Instant::now());
        assert!(m.is_ok());
        assert_eq!((m.batcher, m.batch_key.as_ref()), ("default", "default"));
        assert!(m.failure().is_none());
    }

    #[test]
    fn failed_sets_kind_and_reason() {
        let m = Message::new(1, Instant::now()).failed("invalid", "too big");
        assert!(!m.is_ok());
        assert_eq!(
            m.failure(),
            Some(&Failure { kind: "invalid", reason: "too big".into(), permanent: false })
        );
        assert!(std::mem::size_of::<Message<()>>() <= 80, "messages stay small: they move between stages");
    }

    #[test]
    fn routing_helpers_set_batcher_and_key() {
        let m = Message::new(1, Instant::now()).put_batcher("slow").put_batch_key(format!("s-{}", 7));
        assert_eq!((m.batcher, m.batch_key.as_ref()), ("slow", "s-7"));
    }

    #[test]
    fn metadata_replaces_and_reads_back() {
        let mut md = Metadata::default();
        md.insert("topic", "events");
        md.insert("topic", "sensors.a");
        assert_eq!(md.get("topic"), Some("sensors.a"));
        assert_eq!(md.get("id"), None);
        md.push("seen", "a");
        md.push("seen", "b");
        assert_eq!(md.get_all("seen").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_retry_keeps_the_failure_in_the_history_and_starts_afresh() {
        let mut m = Message::new(1, Instant::now()).put_batcher("slow").put_batch_key("k");
        m.fail("panic", "boom");
        m.reset_for_retry();
        assert!(m.is_ok());
        assert_eq!((m.attempt(), m.batcher, m.batch_key.as_ref()), (2, DEFAULT_BATCHER, DEFAULT_BATCHER));
        assert_eq!(m.metadata.get_all(PREVIOUS_FAILURE).collect::<Vec<_>>(), ["panic: boom"]);
        m.fail_permanently("invalid", "no");
        assert!(m.failure().is_some_and(|f| f.permanent));
        let pair = |k: &str, r: &str| (k.to_owned(), r.to_owned());
        assert_eq!(m.failures(), [pair("panic", "boom"), pair("invalid", "no")], "oldest first");
    }
}
