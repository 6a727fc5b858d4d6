//! From the pipeline's acknowledgements to `XACK`s. Every entry read from the stream opens a
//! countdown of its events ([`Tracker::open`]); [`RedisAcker`], the last link of the ack
//! chain, counts each event's outcome down; an entry whose events are all final joins the
//! outbox, and the flusher sends the outbox as one ack script call (≤ [`FLUSH_MAX`] entries,
//! gathered for ≤ [`GATHER`]), which `XACK`s and counts the outcomes in the node's ledger
//! atomically. A failed call puts the entries back: an acknowledgement is never dropped.

use super::RedisBus;
use super::codec::{EVENT_ID, entry_of};
use super::scripts::{ACK, AckReport, Finished, ack_args};
use crate::pipeline::{Acknowledger, Message};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Most entries acknowledged by one script call.
pub(crate) const FLUSH_MAX: usize = 256;
/// How long the flusher lets finished entries gather before a call.
pub(crate) const GATHER: Duration = Duration::from_millis(2);

/// Events of an entry not yet final, and the outcomes so far.
#[derive(Debug, Default)]
struct Countdown {
    left: usize,
    processed: u64,
    failed: u64,
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
}

impl Tracker {
    /// Opens entry `id` of `events` events; false if it is open already (delivered again
    /// while this node still works on it: its events are not handed out twice).
    pub(crate) fn open(&self, id: &str, events: usize) -> bool {
        if events == 0 {
            self.finish(vec![Finished { id: id.to_owned(), processed: 0, failed: 0 }]);
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

    /// Counts final outcomes down: one per message of `successful` and `failed` that carries
    /// an event id of an open entry.
    pub(crate) fn settle<T>(&self, successful: &[Message<T>], failed: &[Message<T>]) {
        let ok = successful.iter().filter_map(|m| m.metadata.get(EVENT_ID)).map(|id| (id, true));
        let bad = failed.iter().filter_map(|m| m.metadata.get(EVENT_ID)).map(|id| (id, false));
        self.count(ok.chain(bad));
    }

    /// Counts failed events down by id: what the dead-letter queue settled.
    pub(crate) fn settle_failed(&self, events: &[&str]) {
        self.count(events.iter().map(|id| (*id, false)));
    }

    fn count<'a>(&self, events: impl Iterator<Item = (&'a str, bool)>) {
        let mut finished = Vec::new();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for (event, ok) in events {
            let Some(entry) = entry_of(event) else { continue };
            let Some(c) = open.get_mut(entry) else { continue };
            if ok {
                c.processed += 1;
            } else {
                c.failed += 1;
            }
            c.left = c.left.saturating_sub(1);
            if c.left == 0 {
                let c = open.remove(entry).unwrap_or_default();
                finished.push(Finished { id: entry.to_owned(), processed: c.processed, failed: c.failed });
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

/// The ack chain's last link in redis mode: each success counts its entry down. Failures
/// count down once the dead-letter queue settled them ([`RedisAcker::failures_settled`]), so
/// an entry is not acknowledged in Redis before its failed events' letters are on disk.
pub struct RedisAcker(pub(crate) Arc<Tracker>);

impl RedisAcker {
    /// The acker of `bus`'s entries.
    pub fn new(bus: &RedisBus) -> Self {
        Self(bus.inner.acks.clone())
    }

    /// What the dead-letter queue calls with the ids of failed events it settled.
    pub(crate) fn failures_settled(&self) -> crate::pipeline::Settled {
        let tracker = self.0.clone();
        Arc::new(move |events: &[&str]| tracker.settle_failed(events))
    }
}

impl<T> Acknowledger<T> for RedisAcker {
    fn ack(&self, successful: &[Message<T>], _failed: &[Message<T>]) {
        self.0.settle(successful, &[]);
    }
}

/// Sends one batch of finished entries; puts them back if Redis did not take them.
pub(crate) async fn send(bus: &RedisBus, batch: Vec<Finished>) -> Result<AckReport, redis::RedisError> {
    let keys = &bus.inner.keys;
    let outcome: Result<(u64, u64, u64), _> = ACK
        .key(&keys.stream)
        .key(&keys.backlog)
        .key(&keys.ledger)
        .arg(&keys.group)
        .arg(ack_args(&batch))
        .invoke_async(&mut bus.conn())
        .await;
    match outcome {
        Ok((acked, duplicate_entries, duplicate_events)) => {
            let t = &bus.inner.acks;
            t.acked_entries.fetch_add(acked, Ordering::Relaxed);
            t.duplicate_entries.fetch_add(duplicate_entries, Ordering::Relaxed);
            t.duplicate_events.fetch_add(duplicate_events, Ordering::Relaxed);
            if duplicate_entries > 0 {
                tracing::info!(
                    duplicate_entries,
                    duplicate_events,
                    "acks found entries acknowledged elsewhere already"
                );
            }
            Ok(AckReport { acked, duplicate_entries, duplicate_events })
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

    #[test]
    fn an_entry_finishes_only_when_every_event_is_final() {
        let t = Tracker::default();
        assert!(t.open("1-0", 3));
        t.settle(&[event("1-0", 0)], &[]);
        t.settle(&[], &[event("1-0", 1).failed("bad", "too hot")]);
        assert!(t.take(10).is_empty(), "one event is not final yet");
        t.settle(&[event("1-0", 2)], &[]);
        assert_eq!(t.take(10), vec![Finished { id: "1-0".into(), processed: 2, failed: 1 }]);
        assert_eq!(t.depth(), (0, 0));
    }

    #[test]
    fn an_open_entry_delivered_again_is_not_opened_twice() {
        let t = Tracker::default();
        assert!(t.open("2-0", 1));
        assert!(!t.open("2-0", 1));
        t.settle(&[event("2-0", 0)], &[]);
        assert_eq!(t.take(10).len(), 1);
        assert!(t.open("2-0", 1), "finished entries may come again (a redelivery)");
    }

    #[test]
    fn messages_from_elsewhere_and_unknown_entries_are_ignored() {
        let t = Tracker::default();
        t.open("3-0", 1);
        t.settle(&[Message::new(0u8, std::time::Instant::now()), event("9-9", 0)], &[]);
        assert_eq!(t.depth(), (1, 0));
    }

    #[test]
    fn failed_acks_go_back_in_front_in_order() {
        let t = Tracker::default();
        for id in ["a", "b", "c"] {
            t.open(id, 1);
            t.settle(&[event(id, 0)], &[]);
        }
        let first = t.take(2);
        assert_eq!(first.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        t.put_back(first);
        assert_eq!(t.take(10).iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn the_acker_waits_for_the_dead_letter_queue_to_settle_failures() {
        let t = Arc::new(Tracker::default());
        let acker = RedisAcker(t.clone());
        t.open("5-0", 2);
        acker.ack(&[event("5-0", 0)], &[event("5-0", 1).failed("bad", "too hot")]);
        assert!(t.take(10).is_empty(), "the failure's letter is not committed yet");
        (acker.failures_settled())(&["5-0/1"]);
        assert_eq!(t.take(10), vec![Finished { id: "5-0".into(), processed: 1, failed: 1 }]);
    }

    #[test]
    fn an_empty_entry_is_finished_at_once() {
        let t = Tracker::default();
        assert!(t.open("4-0", 0));
        assert_eq!(t.take(1), vec![Finished { id: "4-0".into(), processed: 0, failed: 0 }]);
    }
}
