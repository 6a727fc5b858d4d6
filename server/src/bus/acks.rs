//! From the pipeline's acknowledgements to `XACK`s. Every entry read from the stream opens a
//! countdown of its events ([`Tracker::open`]); [`RedisAcker`], the last link of the ack
//! chain, counts each event's outcome down; an entry whose events are all final joins the
//! outbox, and the flusher sends the outbox as one ack script call (≤ [`FLUSH_MAX`] entries,
//! gathered for ≤ [`GATHER`]), which `XACK`s and counts the outcomes in the node's ledger
//! atomically. A failed call puts the entries back: an acknowledgement is never dropped.
//!
//! A failed event's dead letter travels with its entry: the acker encodes it (the dead-letter
//! store's JSON record) and the ack script adds it to the cluster's queue in the step that
//! acknowledges the entry, so a letter exists exactly when its entry is acknowledged, once.
//! The node's local ledger counts the failures once that call succeeded.

use super::RedisBus;
use super::codec::{EVENT_ID, entry_of};
use super::scripts::{ACK, AckReport, Finished, ack_args};
use crate::dlq::{DeadLetter, encode_letter, now_ms};
use crate::pipeline::{Acknowledger, Message};
use crate::telemetry::{Ledger, failure_kind};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Most entries acknowledged by one script call.
pub(crate) const FLUSH_MAX: usize = 256;
/// The queue's bound before an acker set one (never, outside unit tests): the default of
/// `--dlq-capacity`.
const UNSET_CAPACITY: u64 = 10_000;
/// How long the flusher lets finished entries gather before a call.
pub(crate) const GATHER: Duration = Duration::from_millis(2);

/// Events of an entry not yet final, and the outcomes so far.
#[derive(Debug, Default)]
struct Countdown {
    left: usize,
    processed: u64,
    failed: u64,
    letters: Vec<Vec<u8>>,
    kinds: Vec<&'static str>,
}

/// One event's final outcome.
pub(crate) enum Outcome {
    Processed,
    /// Failed for good: its dead letter (encoded) and the kind the ledger counts it under.
    Failed {
        letter: Vec<u8>,
        kind: &'static str,
    },
}

/// Where failures go once acknowledged: the node's local ledger, and the queue's bound.
pub(crate) struct Sink {
    pub ledger: Arc<Ledger>,
    pub capacity: u64,
    /// Where the messages came from (the topic), recorded in their letters.
    pub source: String,
}

/// The open entries and the outbox of finished ones.
#[derive(Default)]
pub(crate) struct Tracker {
    open: Mutex<HashMap<String, Countdown>>,
    outbox: Mutex<Vec<Finished>>,
    ready: Notify,
    /// Entries acknowledged in Redis by this node, and acks Redis found nothing pending for.
    pub acked_entries: AtomicU64,
    pub duplicate_entries: AtomicU64,
    pub duplicate_events: AtomicU64,
    /// Dead letters this node added to the cluster's queue.
    pub letters_written: AtomicU64,
    /// Set once by [`RedisAcker::new`].
    pub sink: OnceLock<Sink>,
}

impl Tracker {
    /// Opens entry `id` of `events` events; false if it is open already (delivered again
    /// while this node still works on it: its events are not handed out twice).
    pub(crate) fn open(&self, id: &str, events: usize) -> bool {
        if events == 0 {
            self.finish(vec![Finished { id: id.to_owned(), ..Finished::default() }]);
            return true;
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.contains_key(id) {
            return false;
        }
        open.insert(id.to_owned(), Countdown { left: events, ..Countdown::default() });
        true
    }

    /// Whether entry `id` is being worked on here now.
    pub(crate) fn is_open(&self, id: &str) -> bool {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).contains_key(id)
    }

    /// Counts final outcomes down, by event id; ids of entries not open here are ignored.
    pub(crate) fn count<'a>(&self, events: impl Iterator<Item = (&'a str, Outcome)>) {
        let mut finished = Vec::new();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for (event, outcome) in events {
            let Some(entry) = entry_of(event) else { continue };
            let Some(c) = open.get_mut(entry) else { continue };
            match outcome {
                Outcome::Processed => c.processed += 1,
                Outcome::Failed { letter, kind } => {
                    c.failed += 1;
                    c.letters.push(letter);
                    c.kinds.push(kind);
                }
            }
            c.left = c.left.saturating_sub(1);
            if c.left == 0 {
                let c = open.remove(entry).unwrap_or_default();
                finished.push(Finished {
                    id: entry.to_owned(),
                    processed: c.processed,
                    failed: c.failed,
                    letters: c.letters,
                    kinds: c.kinds,
                });
            }
        }
        drop(open);
        if !finished.is_empty() {
            self.finish(finished);
        }
    }

    fn finish(&self, mut finished: Vec<Finished>) {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner()).append(&mut finished);
        self.ready.notify_one();
    }

    /// Takes at most `max` finished entries, oldest first.
    pub(crate) fn take(&self, max: usize) -> Vec<Finished> {
        let mut outbox = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        let n = max.min(outbox.len());
        outbox.drain(..n).collect()
    }

    /// Puts entries whose ack failed back in front.
    pub(crate) fn put_back(&self, mut finished: Vec<Finished>) {
        let mut outbox = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        finished.append(&mut outbox);
        *outbox = finished;
    }

    /// (entries open, entries waiting for their ack).
    pub(crate) fn depth(&self) -> (usize, usize) {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner()).len();
        (open, self.outbox.lock().unwrap_or_else(|e| e.into_inner()).len())
    }
}

/// The ack chain's last link in redis mode: each final event counts its entry down; a
/// failed one with its dead letter, which the entry's `XACK` adds to the cluster's queue.
pub(crate) struct RedisAcker {
    tracker: Arc<Tracker>,
    /// Where the messages came from (the topic), recorded in their letters.
    source: String,
}

impl RedisAcker {
    /// The acker of `bus`'s entries. Failures are counted in `ledger` once their entry is
    /// acknowledged; the cluster's queue keeps at most `capacity` letters.
    pub(crate) fn new(bus: &RedisBus, ledger: Arc<Ledger>, source: &str, capacity: u64) -> Self {
        let tracker = bus.inner.acks.clone();
        if tracker.sink.set(Sink { ledger, capacity, source: source.to_owned() }).is_err() {
            tracing::warn!("a second acker for the same bus: its ledger is ignored");
        }
        Self { tracker, source: source.to_owned() }
    }

    /// The dead letter of a failed message, encoded as the store's record.
    fn letter<T: Serialize + std::fmt::Debug>(&self, m: &Message<T>) -> Vec<u8> {
        let letter = DeadLetter::of_failed(&m.data, &m.failures(), &self.source);
        encode_letter(&letter, now_ms())
            .unwrap_or_else(|e| format!("{{\"unencodable\":{:?}}}", e.to_string()).into_bytes())
    }
}

impl<T: Serialize + std::fmt::Debug> Acknowledger<T> for RedisAcker {
    fn ack(&self, successful: &[Message<T>], failed: &[Message<T>]) {
        let ok = successful.iter().filter_map(|m| Some((m.metadata.get(EVENT_ID)?, Outcome::Processed)));
        let bad = failed.iter().filter_map(|m| {
            let id = m.metadata.get(EVENT_ID)?;
            Some((id, Outcome::Failed { letter: self.letter(m), kind: failure_kind(m) }))
        });
        self.tracker.count(ok.chain(bad));
    }
}

/// Sends one batch of finished entries; puts them back if Redis did not take them.
pub(crate) async fn send(bus: &RedisBus, batch: Vec<Finished>) -> Result<AckReport, redis::RedisError> {
    let keys = &bus.inner.keys;
    let t = &bus.inner.acks;
    let capacity = t.sink.get().map_or(UNSET_CAPACITY, |s| s.capacity);
    let outcome: Result<(u64, u64, u64, u64, u64), _> = ACK
        .key(&keys.stream)
        .key(&keys.backlog)
        .key(&keys.ledger)
        .key(&keys.letters)
        .key(&keys.letters_meta)
        .arg(&keys.group)
        .arg(capacity)
        .arg(ack_args(&batch))
        .invoke_async(&mut bus.conn())
        .await;
    match outcome {
        Ok((acked, duplicate_entries, duplicate_events, letters_written, letters_evicted)) => {
            t.acked_entries.fetch_add(acked, Ordering::Relaxed);
            t.duplicate_entries.fetch_add(duplicate_entries, Ordering::Relaxed);
            t.duplicate_events.fetch_add(duplicate_events, Ordering::Relaxed);
            t.letters_written.fetch_add(letters_written, Ordering::Relaxed);
            // Acknowledged (here or, a duplicate, elsewhere): this node's failures are final.
            if let Some(sink) = t.sink.get() {
                let kinds: Vec<&'static str> = batch.iter().flat_map(|f| f.kinds.iter().copied()).collect();
                if !kinds.is_empty() {
                    sink.ledger.failures_settled(&kinds);
                }
            }
            if duplicate_entries > 0 {
                tracing::info!(
                    duplicate_entries,
                    duplicate_events,
                    "acks found entries acknowledged elsewhere already"
                );
            }
            Ok(AckReport { acked, duplicate_entries, duplicate_events, letters_written, letters_evicted })
        }
        Err(e) => {
            bus.trouble(&e);
            bus.inner.acks.put_back(batch);
            Err(e)
        }
    }
}

/// The flusher: sends finished entries as they come, until the bus stops.
pub(crate) async fn flush_loop(bus: RedisBus) {
    let tracker = bus.inner.acks.clone();
    let mut backoff = Duration::from_millis(100);
    loop {
        tokio::select! {
            () = bus.inner.stop.cancelled() => return,
            () = tracker.ready.notified() => {}
        }
        tokio::time::sleep(GATHER).await;
        loop {
            let batch = tracker.take(FLUSH_MAX);
            if batch.is_empty() {
                break;
            }
            if send(&bus, batch).await.is_err() {
                tokio::select! {
                    () = bus.inner.stop.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            } else {
                backoff = Duration::from_millis(100);
            }
        }
    }
}

/// Sends everything in the outbox, retrying until `deadline`; what is left then stays pending
/// in Redis (another node redelivers it). Returns the entries left.
pub(crate) async fn flush_all(bus: &RedisBus, deadline: Instant) -> usize {
    let tracker = &bus.inner.acks;
    while Instant::now() < deadline {
        let batch = tracker.take(FLUSH_MAX);
        if batch.is_empty() {
            return 0;
        }
        if send(bus, batch).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tracker.depth().1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::codec::{EVENT_ID, event_id};

    fn event(entry: &str, i: usize) -> Message<u8> {
        let mut m = Message::new(0, std::time::Instant::now());
        m.metadata.insert(EVENT_ID, event_id(entry, i));
        m
    }

    fn acker(t: &Arc<Tracker>) -> RedisAcker {
        RedisAcker { tracker: t.clone(), source: "events".into() }
    }

    fn finished(id: &str, processed: u64) -> Finished {
        Finished { id: id.into(), processed, ..Finished::default() }
    }

    #[test]
    fn an_entry_finishes_only_when_every_event_is_final_with_its_letters() {
        let t = Arc::new(Tracker::default());
        let acker = acker(&t);
        assert!(t.open("1-0", 3));
        acker.ack(&[event("1-0", 0)], &[]);
        acker.ack(&[], &[event("1-0", 1).failed("bad", "too hot")]);
        assert!(t.take(10).is_empty(), "one event is not final yet");
        acker.ack(&[event("1-0", 2)], &[]);
        let done = t.take(10);
        assert_eq!(done.len(), 1);
        assert_eq!((done[0].id.as_str(), done[0].processed, done[0].failed), ("1-0", 2, 1));
        assert_eq!(done[0].kinds, ["bad"]);
        let letter = crate::dlq::decode_letter(1, &done[0].letters[0]).expect("the store's record");
        assert_eq!(letter.payload, serde_json::json!(0));
        assert_eq!(letter.last_reason(), Some("too hot"));
        assert_eq!(letter.source.as_deref(), Some("events"));
        assert_eq!(t.depth(), (0, 0));
    }

    #[test]
    fn an_open_entry_delivered_again_is_not_opened_twice() {
        let t = Arc::new(Tracker::default());
        assert!(t.open("2-0", 1));
        assert!(!t.open("2-0", 1));
        acker(&t).ack(&[event("2-0", 0)], &[]);
        assert_eq!(t.take(10).len(), 1);
        assert!(t.open("2-0", 1), "finished entries may come again (a redelivery)");
    }

    #[test]
    fn messages_from_elsewhere_and_unknown_entries_are_ignored() {
        let t = Arc::new(Tracker::default());
        t.open("3-0", 1);
        acker(&t).ack(&[Message::new(0u8, std::time::Instant::now()), event("9-9", 0)], &[]);
        assert_eq!(t.depth(), (1, 0));
    }

    #[test]
    fn failed_acks_go_back_in_front_in_order() {
        let t = Arc::new(Tracker::default());
        for id in ["a", "b", "c"] {
            t.open(id, 1);
            acker(&t).ack(&[event(id, 0)], &[]);
        }
        let first = t.take(2);
        assert_eq!(first.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        t.put_back(first);
        assert_eq!(t.take(10).iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn an_empty_entry_is_finished_at_once() {
        let t = Tracker::default();
        assert!(t.open("4-0", 0));
        assert_eq!(t.take(1), vec![finished("4-0", 0)]);
    }
}
