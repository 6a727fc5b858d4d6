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
//! In redis mode the queue is the cluster's, in Redis (`crate::bus::ClusterLetters`): the
//! bus's acker adds a failed event's letter in the script that acknowledges its entry, so
//! there is no sink here; this handle lists, replays (atomically: the replay script) and
//! purges it, and refreshes its counts each second.
//!
//! Replay re-publishes the payloads through ingest (counted as published again: the ledger
//! still balances) and removes them only once published; a full pipeline stops the replay
//! with what is left still queued.

use crate::bus::ClusterLetters;
use crate::dlq::{DeadLetter, DeadLetterWriter, DeadLetters, DlqError, Page, ReplayError, Selection};
use crate::ingest::{Ingest, IngestError};
use crate::pipeline::{Acknowledger, Message};
use crate::telemetry::{Ledger, failure_kind};
use app::model::{DeadLetterStats, SensorReading};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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
}

/// Settles `failed` in the ledger: committed, or given up on (counted not stored).
fn settle(ledger: &Ledger, failed: &[Failed]) {
    ledger.failures_settled(&failed.iter().map(|f| f.kind).collect::<Vec<_>>());
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
            settle(&self.ledger, &batch);
        }
    }
}

fn to_failed(m: &Message<SensorReading>) -> Failed {
    Failed { data: m.data.clone(), failures: m.failures(), kind: failure_kind(m) }
}

/// Cheap-clone handle: the store, its writer task, and the counts the stats show.
#[derive(Clone)]
pub(crate) struct DeadLetterQueue {
    store: Store,
    counters: Arc<Counters>,
    flush: CancellationToken,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

/// This node's redb file, or (redis mode) the cluster's queue in Redis.
#[derive(Clone)]
enum Store {
    Local(DeadLetters),
    Cluster(ClusterLetters),
}

/// How often the cluster's queue counts are read again (other nodes change them too).
const CLUSTER_REFRESH: Duration = Duration::from_secs(1);

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
            store: Store::Local(store.clone()),
            counters: counters.clone(),
            flush: flush.clone(),
            task: Arc::default(),
        };
        let task = tokio::spawn(queue.clone().write(store, source.to_owned(), ledger.clone(), rx, flush));
        *queue.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        Ok((queue, DeadLetterSink { inbox: tx, counters, ledger }))
    }

    /// Redis mode: the cluster's queue (letters arrive with their entries' acks, not through
    /// this handle). Its counts are read now and each [`CLUSTER_REFRESH`] until the flush.
    pub(crate) async fn cluster(letters: ClusterLetters) -> Self {
        let flush = CancellationToken::new();
        let queue = Self {
            store: Store::Cluster(letters),
            counters: Arc::default(),
            flush: flush.clone(),
            task: Arc::default(),
        };
        queue.refresh().await;
        let task = tokio::spawn({
            let queue = queue.clone();
            async move {
                let mut tick = tokio::time::interval(CLUSTER_REFRESH);
                loop {
                    tokio::select! {
                        () = flush.cancelled() => return,
                        _ = tick.tick() => queue.refresh().await,
                    }
                }
            }
        });
        *queue.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        queue
    }

    /// The writing task: takes everything queued, writes it in one commit, counts it (in
    /// `ledger`, as failed); letters say they came from `source`.
    async fn write(
        self,
        store: DeadLetters,
        source: String,
        ledger: Arc<Ledger>,
        mut inbox: mpsc::Receiver<Vec<Failed>>,
        flush: CancellationToken,
    ) {
        let (writer, writer_task) = DeadLetterWriter::spawn(store, 4);
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
            let letters: Vec<DeadLetter> =
                failed.iter().map(|f| DeadLetter::of_failed(&f.data, &f.failures, &source)).collect();
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
            settle(&ledger, &failed);
        }
        drop(writer);
        let _ = writer_task.await;
    }

    /// Re-reads the stored and evicted counts after a change.
    async fn refresh(&self) {
        let counts = match &self.store {
            Store::Local(store) => store.run_blocking(|s| Ok((s.len()?, s.evicted()?))).await,
            Store::Cluster(letters) => letters.counts().await,
        };
        if let Ok((len, evicted)) = counts {
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
        let (capacity, written) = match &self.store {
            Store::Local(store) => (store.capacity(), c.written.load(Ordering::Relaxed)),
            Store::Cluster(letters) => (letters.capacity(), letters.written()),
        };
        DeadLetterStats {
            stored: c.stored.load(Ordering::Relaxed),
            capacity,
            evicted: c.evicted.load(Ordering::Relaxed),
            written,
            not_stored: c.not_stored.load(Ordering::Relaxed),
            replayed: c.replayed.load(Ordering::Relaxed),
        }
    }

    /// A page, newest first, older than `before`.
    pub(crate) async fn list(&self, before: Option<u64>, limit: usize) -> Result<Page, DlqError> {
        match &self.store {
            Store::Local(store) => store.run_blocking(move |s| s.list(before, limit)).await,
            Store::Cluster(letters) => letters.list(before, limit).await,
        }
    }

    /// Replays the selection through `ingest` (never waiting for room); returns how many were
    /// published again. Stops at the first refusal, leaving the rest queued.
    pub(crate) async fn replay(
        &self,
        selection: Selection,
        ingest: &Ingest,
    ) -> Result<u64, ReplayError<IngestError>> {
        let outcome = match &self.store {
            Store::Local(store) => Self::replay_local(store, selection, ingest).await,
            Store::Cluster(letters) => letters.replay(selection).await.map_err(|e| match e {
                ReplayError::Store(e) => ReplayError::Store(e),
                ReplayError::Publish { replayed, error } => {
                    ReplayError::Publish { replayed, error: error.into() }
                }
            }),
        };
        let replayed = match &outcome {
            Ok(n) | Err(ReplayError::Publish { replayed: n, .. }) => *n,
            Err(ReplayError::Store(_)) => 0,
        };
        self.counters.replayed.fetch_add(replayed, Ordering::Relaxed);
        self.refresh().await;
        outcome
    }

    /// Replay from the redb file: publish, then remove (at least once).
    async fn replay_local(
        store: &DeadLetters,
        selection: Selection,
        ingest: &Ingest,
    ) -> Result<u64, ReplayError<IngestError>> {
        store
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
            .await
    }

    /// Empties the queue; returns how many letters were removed.
    pub(crate) async fn purge(&self) -> Result<u64, DlqError> {
        let removed = match &self.store {
            Store::Local(store) => store.run_blocking(|s| s.purge()).await?,
            Store::Cluster(letters) => letters.purge().await?,
        };
        self.refresh().await;
        Ok(removed)
    }
}
