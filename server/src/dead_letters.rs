//! The dead-letter queue as the server runs it: every message the pipeline finally fails (after
//! its retries) is written, with every failure reason, to the durable store (`crate::dlq`);
//! the page lists, replays and purges it.
//!
//! [`DeadLetterSink`] is the last link of the pipeline's acknowledgement chain (after the
//! ledger, which counts successes, and the feed): it hands the failed messages to a bounded
//! inbox without ever blocking the pipeline. One task takes what is queued, writes it in one
//! fsynced commit through the store's writer, and only then counts it as dead-lettered and
//! tells the ledger they failed (durable before counted: a crash loses no failure the ledger
//! showed). If the disk cannot
//! keep up, what does not fit in the inbox is counted as `not_stored` (never silently gone).
//! On shutdown the drain flushes the inbox after the pipeline has stopped.
//!
//! In redis mode the bus is told too ([`DeadLetterQueue::on_settled`], with the events' ids),
//! so an entry is `XACK`ed only once its failed events' letters are committed.
//!
//! Replay re-publishes the payloads through ingest (counted as published again: the ledger
//! still balances) and removes them only once published; a full pipeline stops the replay
//! with what is left still queued.

use crate::dlq::{DeadLetter, DeadLetterWriter, DeadLetters, DlqError, Page, ReplayError, Selection};
use crate::ingest::{Ingest, IngestError};
use crate::pipeline::{Acknowledger, Message, PREVIOUS_FAILURE};
use crate::telemetry::{Ledger, failure_kind};
use app::model::{DeadLetterStats, SensorReading};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Batches of failed messages the inbox holds before new ones count as `not_stored`.
const INBOX: usize = 256;
/// Most letters written in one commit.
const COMMIT_MAX: usize = 8_192;

/// A failed message on its way to the store (converted there, off the pipeline's thread).
struct Failed {
    data: SensorReading,
    failures: Vec<(String, String)>,
    /// What the ledger counts it under.
    kind: &'static str,
    /// Its cluster-wide id, in redis mode (told to [`Settled`] once settled).
    event: Option<String>,
}

/// Told the ids of failed events once they are settled (committed, or counted not stored).
pub(crate) use crate::pipeline::Settled;

/// Settles `failed` in the ledger and tells the hook, if one is set.
fn settle(ledger: &Ledger, hook: &OnceLock<Settled>, failed: &[Failed]) {
    ledger.failures_settled(&failed.iter().map(|f| f.kind).collect::<Vec<_>>());
    if let Some(hook) = hook.get() {
        let events: Vec<&str> = failed.iter().filter_map(|f| f.event.as_deref()).collect();
        if !events.is_empty() {
            hook(&events);
        }
    }
}

#[derive(Default)]
struct Counters {
    written: AtomicU64,
    not_stored: AtomicU64,
    replayed: AtomicU64,
    stored: AtomicU64,
    evicted: AtomicU64,
}

/// The acknowledgement chain's dead-letter link: failed messages to the inbox.
pub(crate) struct DeadLetterSink {
    inbox: mpsc::Sender<Vec<Failed>>,
    counters: Arc<Counters>,
    ledger: Arc<Ledger>,
    settled: Arc<OnceLock<Settled>>,
}

impl Acknowledger<SensorReading> for DeadLetterSink {
    fn ack(&self, _successful: &[Message<SensorReading>], failed: &[Message<SensorReading>]) {
        if failed.is_empty() {
            return;
        }
        let batch: Vec<Failed> = failed.iter().map(to_failed).collect();
        if let Err(refused) = self.inbox.try_send(batch) {
            // Never stored, so settled now: counted failed, and as not stored.
            let batch = refused.into_inner();
            self.counters.not_stored.fetch_add(batch.len() as u64, Ordering::Relaxed);
            settle(&self.ledger, &self.settled, &batch);
        }
    }
}

fn to_failed(m: &Message<SensorReading>) -> Failed {
    let mut failures: Vec<(String, String)> = m
        .metadata
        .get_all(PREVIOUS_FAILURE)
        .map(|f| match f.split_once(": ") {
            Some((kind, reason)) => (kind.to_owned(), reason.to_owned()),
            None => (f.to_owned(), f.to_owned()),
        })
        .collect();
    if let Some(f) = m.failure() {
        failures.push((f.kind.to_owned(), f.reason.clone()));
    }
    let event = m.metadata.get(crate::pipeline::EVENT_ID).map(str::to_owned);
    Failed { data: m.data.clone(), failures, kind: failure_kind(m), event }
}

/// Cheap-clone handle: the store, its writer task, and the counts the stats show.
#[derive(Clone)]
pub(crate) struct DeadLetterQueue {
    store: DeadLetters,
    counters: Arc<Counters>,
    flush: CancellationToken,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    source: Arc<str>,
    ledger: Arc<Ledger>,
    settled: Arc<OnceLock<Settled>>,
}

impl DeadLetterQueue {
    /// Opens the store and starts the task that writes to it; returns the queue and the
    /// acknowledger the pipeline is started with.
    /// Failures are counted in `ledger` once their letters are committed.
    pub(crate) fn start(
        store: DeadLetters,
        source: &str,
        ledger: Arc<Ledger>,
    ) -> Result<(Self, DeadLetterSink), DlqError> {
        let counters = Arc::new(Counters::default());
        counters.stored.store(store.len()?, Ordering::Relaxed);
        counters.evicted.store(store.evicted()?, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(INBOX);
        let flush = CancellationToken::new();
        let queue = Self {
            store: store.clone(),
            counters: counters.clone(),
            flush: flush.clone(),
            task: Arc::default(),
            source: source.into(),
            ledger: ledger.clone(),
            settled: Arc::default(),
        };
        let task = tokio::spawn(queue.clone().write(rx, flush));
        *queue.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        let settled = queue.settled.clone();
        Ok((queue, DeadLetterSink { inbox: tx, counters, ledger, settled }))
    }

    /// From now on, also tells `hook` the ids of failed events once they are settled (redis
    /// mode: their entries may then be acknowledged). Set once; later calls are ignored.
    pub(crate) fn on_settled(&self, hook: Settled) {
        let _ = self.settled.set(hook);
    }

    /// The writing task: takes everything queued, writes it in one commit, counts it.
    async fn write(self, mut inbox: mpsc::Receiver<Vec<Failed>>, flush: CancellationToken) {
        let (writer, writer_task) = DeadLetterWriter::spawn(self.store.clone(), 4);
        loop {
            let first = tokio::select! {
                batch = inbox.recv() => batch,
                () = flush.cancelled() => inbox.try_recv().ok(),
            };
            let Some(first) = first else { break };
            let mut failed = first;
            while failed.len() < COMMIT_MAX {
                match inbox.try_recv() {
                    Ok(more) => failed.extend(more),
                    Err(_) => break,
                }
            }
            let n = failed.len() as u64;
            let letters: Vec<DeadLetter> = failed.iter().map(|f| self.letter(f)).collect();
            match writer.send(letters).await {
                Ok(appended) => {
                    self.counters.written.fetch_add(appended.ids.len() as u64, Ordering::Relaxed);
                    self.refresh().await;
                }
                Err(e) => {
                    tracing::error!("dead letters not stored: {e}");
                    self.counters.not_stored.fetch_add(n, Ordering::Relaxed);
                }
            }
            // Committed (or given up on, and counted so): only now are they failed.
            settle(&self.ledger, &self.settled, &failed);
        }
        drop(writer);
        let _ = writer_task.await;
    }

    fn letter(&self, f: &Failed) -> DeadLetter {
        let mut letter = match DeadLetter::from_typed(&f.data) {
            Ok(l) => l,
            Err(_) => DeadLetter::new(serde_json::Value::String(format!("{:?}", f.data))),
        };
        for (kind, reason) in &f.failures {
            letter = letter.failed(kind.clone(), reason.clone());
        }
        letter.with_source(self.source.to_string())
    }

    /// Re-reads the stored and evicted counts after a change.
    async fn refresh(&self) {
        if let Ok((len, evicted)) = self.store.run_blocking(|s| Ok((s.len()?, s.evicted()?))).await {
            self.counters.stored.store(len, Ordering::Relaxed);
            self.counters.evicted.store(evicted, Ordering::Relaxed);
        }
    }

    /// Writes what is still queued and ends the writer (after the pipeline has stopped).
    pub(crate) async fn flush(&self, timeout: Duration) {
        self.flush.cancel();
        let task = self.task.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(task) = task
            && tokio::time::timeout(timeout, task).await.is_err()
        {
            tracing::warn!("dead-letter queue still writing after {timeout:?}");
        }
    }

    /// The counts the stats show.
    pub(crate) fn stats(&self) -> DeadLetterStats {
        let c = &self.counters;
        DeadLetterStats {
            stored: c.stored.load(Ordering::Relaxed),
            capacity: self.store.capacity(),
            evicted: c.evicted.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            not_stored: c.not_stored.load(Ordering::Relaxed),
            replayed: c.replayed.load(Ordering::Relaxed),
        }
    }

    /// A page, newest first, older than `before`.
    pub(crate) async fn list(&self, before: Option<u64>, limit: usize) -> Result<Page, DlqError> {
        self.store.run_blocking(move |s| s.list(before, limit)).await
    }

    /// Replays the selection through `ingest` (never waiting for room); returns how many were
    /// published again. Stops at the first refusal, leaving the rest queued.
    pub(crate) async fn replay(
        &self,
        selection: Selection,
        ingest: &Ingest,
    ) -> Result<u64, ReplayError<IngestError>> {
        let outcome = self
            .store
            .replay_with(selection, 1_000, |entries| async move {
                let readings: Vec<SensorReading> =
                    entries.iter().filter_map(|e| e.payload_as::<SensorReading>().ok()).collect();
                if readings.len() < entries.len() {
                    tracing::warn!(
                        "{} dead letters are not readings: removed",
                        entries.len() - readings.len()
                    );
                }
                ingest.try_publish(readings).map(|_| ())
            })
            .await;
        let replayed = match &outcome {
            Ok(n) | Err(ReplayError::Publish { replayed: n, .. }) => *n,
            Err(ReplayError::Store(_)) => 0,
        };
        self.counters.replayed.fetch_add(replayed, Ordering::Relaxed);
        self.refresh().await;
        outcome
    }

    /// Empties the queue; returns how many letters were removed.
    pub(crate) async fn purge(&self) -> Result<u64, DlqError> {
        let removed = self.store.run_blocking(|s| s.purge()).await?;
        self.refresh().await;
        Ok(removed)
    }
}
