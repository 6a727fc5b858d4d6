//! The ledger: where every published message is accounted for, as processed, failed (with its
//! reason) or dropped (with why). Counters are bumped once per chunk or batch, never per message
//! hand-off.
//!
//! A success counts when it is acknowledged. A failure counts only once its dead letter is
//! committed to disk (or the dead-letter queue gave up on it, counted there as `not_stored`):
//! the dead-letter queue calls [`Ledger::failures_settled`]. Until then it is in flight, so a
//! crash never loses a failure the ledger has shown.

use crate::pipeline::{Acknowledger, Event, Message, Observer, Status};
use app::model::{ReasonCount, StatsSnapshot};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Why a published message never entered the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// Nobody was subscribed to the topic when it was published.
    NoSubscriber,
    /// The pipeline's subscription buffer was full under a dropping overflow policy.
    BufferFull,
    /// The pipeline was full and the (simulated) publisher could not wait: its excess.
    Overloaded,
}

impl DropReason {
    fn label(self) -> &'static str {
        match self {
            DropReason::NoSubscriber => "no subscriber on the topic",
            DropReason::BufferFull => "pipeline buffer full",
            DropReason::Overloaded => "pipeline full: publisher's excess",
        }
    }
}

/// Counters of the whole life of every message.
#[derive(Default)]
pub(crate) struct Ledger {
    published: AtomicU64,
    processed: AtomicU64,
    failed: AtomicU64,
    batches: AtomicU64,
    dropped_no_subscriber: AtomicU64,
    dropped_overloaded: AtomicU64,
    /// Shared with the pipeline's subscription, which counts what it loses.
    dropped_buffer_full: Arc<AtomicU64>,
    failure_kinds: Mutex<HashMap<&'static str, u64>>,
}

impl Ledger {
    /// Counts `n` messages as published. Called *before* they are handed to the pub/sub, so a
    /// reader never sees more acknowledged than published.
    pub(crate) fn published(&self, n: u64) {
        self.published.fetch_add(n, Ordering::AcqRel);
    }

    /// Takes back a count made by [`Ledger::published`] when the pub/sub refused the messages
    /// (closed): they were never accepted.
    pub(crate) fn unpublished(&self, n: u64) {
        self.published.fetch_sub(n, Ordering::AcqRel);
    }

    /// Counts `n` dropped messages.
    pub(crate) fn dropped(&self, reason: DropReason, n: u64) {
        match reason {
            DropReason::NoSubscriber => self.dropped_no_subscriber.fetch_add(n, Ordering::AcqRel),
            DropReason::BufferFull => self.dropped_buffer_full.fetch_add(n, Ordering::AcqRel),
            DropReason::Overloaded => self.dropped_overloaded.fetch_add(n, Ordering::AcqRel),
        };
    }

    /// The counter the pipeline's subscription adds its losses to.
    pub(crate) fn buffer_full_counter(&self) -> Arc<AtomicU64> {
        self.dropped_buffer_full.clone()
    }

    /// Counts one handled batch.
    pub(crate) fn batch_handled(&self) {
        self.batches.fetch_add(1, Ordering::Relaxed);
    }

    /// (processed + failed, failed): what the rate sampler needs.
    pub(crate) fn acked(&self) -> (u64, u64) {
        let failed = self.failed.load(Ordering::Acquire);
        (self.processed.load(Ordering::Acquire) + failed, failed)
    }

    /// Writes the ledger into a snapshot. Outcomes are read before `published`, and `published`
    /// is always bumped before its messages can reach an outcome, so `in_flight` never underflows.
    /// `failed` and its reasons are read under the reasons' lock, which `failures_settled`
    /// holds while it bumps both: the reasons always sum to `failed`.
    pub(crate) fn fill(&self, s: &mut StatsSnapshot) {
        let kinds = self.failure_kinds.lock().unwrap_or_else(|e| e.into_inner());
        s.failed = self.failed.load(Ordering::Acquire);
        s.failure_reasons = sorted(kinds.iter().map(|(k, n)| (*k, *n)));
        drop(kinds);
        s.processed = self.processed.load(Ordering::Acquire);
        let no_sub = self.dropped_no_subscriber.load(Ordering::Acquire);
        let full = self.dropped_buffer_full.load(Ordering::Acquire);
        let overloaded = self.dropped_overloaded.load(Ordering::Acquire);
        s.dropped = no_sub + full + overloaded;
        s.batches = self.batches.load(Ordering::Relaxed);
        s.published = self.published.load(Ordering::Acquire);
        s.in_flight = s.published.saturating_sub(s.processed + s.failed + s.dropped);
        s.drop_reasons = sorted(
            [
                (DropReason::NoSubscriber.label(), no_sub),
                (DropReason::BufferFull.label(), full),
                (DropReason::Overloaded.label(), overloaded),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0),
        );
    }
}

fn sorted(items: impl Iterator<Item = (&'static str, u64)>) -> Vec<ReasonCount> {
    let mut v: Vec<ReasonCount> =
        items.map(|(r, count)| ReasonCount { reason: r.to_owned(), count }).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    v
}

impl Ledger {
    /// Counts failed messages whose fate is settled: their dead letters are committed (or the
    /// queue could not store them, which it counts). `kinds` holds each one's failure kind.
    pub(crate) fn failures_settled(&self, kinds: &[&'static str]) {
        if kinds.is_empty() {
            return;
        }
        let mut by_kind = self.failure_kinds.lock().unwrap_or_else(|e| e.into_inner());
        for kind in kinds {
            *by_kind.entry(kind).or_default() += 1;
        }
        self.failed.fetch_add(kinds.len() as u64, Ordering::AcqRel);
        drop(by_kind);
    }
}

/// The failure kind the ledger counts a failed message under.
pub(crate) fn failure_kind<T>(m: &Message<T>) -> &'static str {
    match &m.status {
        Status::Failed(f) => f.kind,
        Status::Ok => "failed without a reason",
    }
}

/// The chain's first link: counts successes. Failures wait for the dead-letter queue
/// ([`Ledger::failures_settled`]).
impl<T> Acknowledger<T> for Ledger {
    fn ack(&self, successful: &[Message<T>], _failed: &[Message<T>]) {
        if !successful.is_empty() {
            self.processed.fetch_add(successful.len() as u64, Ordering::AcqRel);
        }
    }
}

/// Counts handled batches from the pipeline's telemetry.
impl Observer for Ledger {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::BatchStopped { .. } = event {
            self.batch_handled();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn msgs(n: usize) -> Vec<Message<u8>> {
        (0..n).map(|_| Message::new(0, Instant::now())).collect()
    }

    #[test]
    fn balances_through_every_outcome() {
        let l = Ledger::default();
        l.published(10);
        let mut s = StatsSnapshot::default();
        l.fill(&mut s);
        assert_eq!((s.published, s.in_flight), (10, 10));
        let failed: Vec<_> = msgs(2).into_iter().map(|m| m.failed("bad", "too hot")).collect();
        l.ack(&msgs(5), &failed);
        l.fill(&mut s);
        assert_eq!((s.processed, s.failed, s.in_flight), (5, 0, 5), "failures wait to be settled");
        let kinds: Vec<_> = failed.iter().map(failure_kind).collect();
        l.failures_settled(&kinds);
        l.dropped(DropReason::NoSubscriber, 1);
        l.dropped(DropReason::BufferFull, 2);
        l.fill(&mut s);
        assert_eq!((s.processed, s.failed, s.dropped, s.in_flight), (5, 2, 3, 0));
        assert!(s.balances());
        assert_eq!(s.failure_reasons, vec![ReasonCount { reason: "bad".into(), count: 2 }]);
        assert_eq!(s.drop_reasons[0], ReasonCount { reason: "pipeline buffer full".into(), count: 2 });
    }

    #[test]
    fn unpublished_takes_back_a_refused_publish() {
        let l = Ledger::default();
        l.published(4);
        l.unpublished(4);
        let mut s = StatsSnapshot::default();
        l.fill(&mut s);
        assert_eq!((s.published, s.in_flight), (0, 0));
    }

    #[test]
    fn subscription_losses_count_as_buffer_full_drops() {
        let l = Ledger::default();
        l.published(3);
        l.buffer_full_counter().fetch_add(3, Ordering::Relaxed);
        let mut s = StatsSnapshot::default();
        l.fill(&mut s);
        assert_eq!((s.dropped, s.in_flight), (3, 0));
    }
}
