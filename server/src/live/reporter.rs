//! The reporter: on a fixed tick (10 per second) it samples rates, closes a history point each
//! second, and publishes one [`Tick`]: the delta frame every WebSocket sends as is. Serialized
//! once per tick, never per client; coalesced whatever the event rate. The newest dead letters
//! are listed again when the queue changed, at most once a second ([`LetterWatch`]).

use super::Snapshots;
use super::frames::{LiveSource, Tick};
use crate::dead_letters::DeadLetterQueue;
use crate::telemetry::{Feed, unix_ms};
use app::model::{DEAD_LETTERS_SHOWN, DeadLetterRow, FEED_PER_FRAME, LiveFrame};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often frames are published: 10 per second.
pub(crate) const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(100);

/// Cheap-clone handle to the latest tick.
#[derive(Clone)]
pub(crate) struct Reporter {
    latest: watch::Receiver<Arc<Tick>>,
    source: Arc<LiveSource>,
    stats: Snapshots,
}

impl Reporter {
    /// Starts the tick task; it stops when `stop` is cancelled, after one final frame.
    pub(crate) fn start(
        stats: Snapshots,
        feed: Arc<Feed>,
        stop: CancellationToken,
        tracker: &TaskTracker,
    ) -> Self {
        let source = Arc::new(LiveSource::new(feed));
        let mut state = TickState { seq: 0, feed_sent: 0 };
        let (tx, latest) = watch::channel(Arc::new(state.next(&stats, &source, None)));
        let reporter = Self { latest, source: source.clone(), stats: stats.clone() };
        let mut letters = LetterWatch::default();
        tracker.spawn(async move {
            let mut tick = tokio::time::interval(SNAPSHOT_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let rows = letters.refresh(stats.dead_letters(), &source).await;
                        tx.send_replace(Arc::new(state.next(&stats, &source, rows)));
                    }
                    () = stop.cancelled() => {
                        tx.send_replace(Arc::new(state.next(&stats, &source, None)));
                        break;
                    }
                }
            }
        });
        reporter
    }

    /// A receiver that sees each new tick.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Arc<Tick>> {
        self.latest.clone()
    }

    /// A full frame as of now, for a page's first paint.
    pub(crate) fn frame(&self) -> LiveFrame {
        let seq = self.latest.borrow().seq;
        self.source.full_frame(seq, self.stats.now())
    }
}

/// What the tick task remembers between ticks.
struct TickState {
    seq: u64,
    /// Number of the newest feed item already sent.
    feed_sent: u64,
}

impl TickState {
    fn next(
        &mut self,
        stats: &Snapshots,
        source: &Arc<LiveSource>,
        dead_letters: Option<Vec<DeadLetterRow>>,
    ) -> Tick {
        stats.sample_rates();
        let snapshot = stats.now();
        let at_unix_ms = unix_ms();
        let point = source.window.lock().unwrap_or_else(|e| e.into_inner()).sample(
            Instant::now(),
            at_unix_ms,
            &snapshot,
        );
        let feed = source.feed.after(self.feed_sent, FEED_PER_FRAME);
        self.feed_sent = feed.last().map_or(self.feed_sent, |i| i.id);
        self.seq += 1;
        let frame = LiveFrame {
            seq: self.seq,
            at_unix_ms,
            full: false,
            stats: snapshot,
            history: point.into_iter().collect(),
            feed,
            dead_letters,
        };
        Tick::new(frame, source.clone())
    }
}

/// Keeps the live page's list of the newest dead letters current without a request per page:
/// the queue is listed again when its counts changed, at most once a second however fast
/// messages die, and the rows go out in that tick's frame (and every full frame after).
#[derive(Default)]
struct LetterWatch {
    /// The counts (written, replayed, stored, evicted) when last listed.
    listed: Option<[u64; 4]>,
    at: Option<Instant>,
}

impl LetterWatch {
    /// The new rows, if the queue changed and a second has passed since the last listing.
    async fn refresh(&mut self, queue: &DeadLetterQueue, source: &LiveSource) -> Option<Vec<DeadLetterRow>> {
        let s = queue.stats();
        let counts = [s.written, s.replayed, s.stored, s.evicted];
        if self.listed == Some(counts) || self.at.is_some_and(|at| at.elapsed() < LETTERS_EVERY) {
            return None;
        }
        self.at = Some(Instant::now());
        match queue.list(None, DEAD_LETTERS_SHOWN).await {
            Ok(page) => {
                self.listed = Some(counts);
                let page = crate::wire::dead_letter_page(page);
                let rows: Vec<DeadLetterRow> = page.entries.iter().map(DeadLetterRow::from).collect();
                *source.dead_letters.lock().unwrap_or_else(|e| e.into_inner()) = rows.clone();
                Some(rows)
            }
            Err(e) => {
                // Tried again in a second; the page keeps the rows it has.
                tracing::warn!("listing dead letters for the live page: {e}");
                None
            }
        }
    }
}

/// Most often the newest dead letters are listed again.
const LETTERS_EVERY: Duration = Duration::from_secs(1);
