//! The live page's frames. The window: five minutes: five minutes of per-second points, built from the ledger's counters
//! on the reporter's ticks, and the frames (delta and full) the WebSocket sends.

use crate::telemetry::{Feed, unix_ms};
use app::model::wire;
use app::model::{DeadLetterRow, FEED_ITEMS, LIVE_HISTORY_POINTS, LiveFrame, LivePoint, StatsSnapshot};
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long one history point spans.
pub(crate) const POINT_SPAN: Duration = Duration::from_secs(1);

/// Counters a point is the difference of: published, processed, failed, dropped.
type Counters = [u64; 4];

fn counters(s: &StatsSnapshot) -> Counters {
    [s.published, s.processed, s.failed, s.dropped]
}

/// The history of points and where the current second began.
#[derive(Default)]
pub(crate) struct Window {
    points: VecDeque<LivePoint>,
    next_seq: u64,
    last: Option<(Instant, Counters)>,
}

impl Window {
    /// Closes the current second if it has passed: appends its point and returns it.
    pub(crate) fn sample(&mut self, now: Instant, now_unix_ms: u64, s: &StatsSnapshot) -> Option<LivePoint> {
        let current = counters(s);
        let Some((since, before)) = self.last else {
            self.last = Some((now, current));
            return None;
        };
        let elapsed = now.duration_since(since);
        if elapsed < POINT_SPAN {
            return None;
        }
        self.last = Some((now, current));
        // Counts over the span (exact: points add up to the ledger); the span makes them rates.
        let during = |i: usize| current[i].saturating_sub(before[i]);
        self.next_seq += 1;
        let point = LivePoint {
            seq: self.next_seq,
            t_ms: now_unix_ms,
            span_ms: elapsed.as_millis() as u64,
            published: during(0),
            processed: during(1),
            failed: during(2),
            dropped: during(3),
            p50_us: s.pipeline.ack_latency.p50_us,
            p99_us: s.pipeline.ack_latency.p99_us,
        };
        self.points.push_back(point.clone());
        if self.points.len() > LIVE_HISTORY_POINTS {
            self.points.pop_front();
        }
        Some(point)
    }

    /// Every point held, oldest first.
    pub(crate) fn all(&self) -> Vec<LivePoint> {
        self.points.iter().cloned().collect()
    }
}

/// What frames are made of besides the stats: the window, the feed and the newest dead letters.
#[derive(Default)]
pub(crate) struct LiveSource {
    pub(crate) window: Mutex<Window>,
    pub(crate) feed: Arc<Feed>,
    /// The newest dead letters as last listed (see `reporter::LetterWatch`).
    pub(crate) dead_letters: Mutex<Vec<DeadLetterRow>>,
}

impl LiveSource {
    pub(crate) fn new(feed: Arc<Feed>) -> Self {
        Self { window: Mutex::default(), feed, dead_letters: Mutex::default() }
    }

    /// A frame with the whole window and the latest feed items.
    pub(crate) fn full_frame(&self, seq: u64, stats: StatsSnapshot) -> LiveFrame {
        let history = self.window.lock().unwrap_or_else(|e| e.into_inner()).all();
        LiveFrame {
            seq,
            at_unix_ms: unix_ms(),
            full: true,
            stats,
            history,
            feed: self.feed.after(0, FEED_ITEMS),
            dead_letters: Some(self.dead_letters.lock().unwrap_or_else(|e| e.into_inner()).clone()),
        }
    }
}

/// One tick of the stream: its delta frame, serialized once for every socket, and its full
/// frame, serialized on first demand (a socket opening, or one that fell behind). Both are
/// kept as the WebSocket's binary payload ([`Bytes`], reference-counted, postcard-encoded): every
/// socket sends the same buffer, cloned by a count, never copied (a copy per socket was 1,000
/// allocations and ~4.4 MB of memcpy per tick at 1,000 clients, when frames were JSON).
pub(crate) struct Tick {
    pub(crate) seq: u64,
    delta: Bytes,
    stats: StatsSnapshot,
    full: OnceLock<Bytes>,
    source: Arc<LiveSource>,
}

impl Tick {
    /// Builds a tick from its delta frame.
    pub(crate) fn new(frame: LiveFrame, source: Arc<LiveSource>) -> Self {
        let delta = serialize(&frame);
        Self { seq: frame.seq, delta, stats: frame.stats, full: OnceLock::new(), source }
    }

    /// The delta frame, encoded.
    pub(crate) fn delta(&self) -> &Bytes {
        &self.delta
    }

    /// The full frame, encoded once per tick however many sockets ask.
    pub(crate) fn full(&self) -> &Bytes {
        self.full.get_or_init(|| serialize(&self.source.full_frame(self.seq, self.stats.clone())))
    }
}

fn serialize(frame: &LiveFrame) -> Bytes {
    // A frame's fields are numbers, strings, options and vectors: postcard encodes every one of
    // them. Should that ever change, the page gets an empty message, which it ignores and logs.
    wire::encode(frame)
        .inspect_err(|e| tracing::error!("encoding a live frame: {e}"))
        .unwrap_or_default()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(published: u64, processed: u64, failed: u64) -> StatsSnapshot {
        StatsSnapshot { published, processed, failed, ..Default::default() }
    }

    #[test]
    fn one_point_per_second_of_counter_differences() {
        let mut w = Window::default();
        let t0 = Instant::now();
        assert_eq!(w.sample(t0, 0, &stats(0, 0, 0)), None, "the first sample starts the second");
        assert_eq!(w.sample(t0 + Duration::from_millis(500), 0, &stats(50, 40, 5)), None);
        let p = w.sample(t0 + Duration::from_secs(1), 1_000, &stats(100, 90, 10)).expect("a second passed");
        assert_eq!((p.seq, p.t_ms, p.published, p.processed, p.failed), (1, 1_000, 100, 90, 10));
        // A late tick: the point spans 2 s, its rate is per second.
        let p = w.sample(t0 + Duration::from_secs(3), 3_000, &stats(300, 290, 10)).expect("late");
        assert_eq!((p.seq, p.span_ms, p.published, p.processed, p.failed), (2, 2_000, 200, 200, 0));
        assert_eq!(p.per_s(p.processed), 100.0);
        assert_eq!(w.all().len(), 2);
    }

    #[test]
    fn the_window_keeps_five_minutes() {
        let mut w = Window::default();
        let t0 = Instant::now();
        for i in 0..(LIVE_HISTORY_POINTS as u64 + 20) {
            w.sample(t0 + Duration::from_secs(i), i, &stats(i, i, 0));
        }
        let all = w.all();
        assert_eq!(all.len(), LIVE_HISTORY_POINTS);
        assert_eq!(all.last().map(|p| p.seq), Some(LIVE_HISTORY_POINTS as u64 + 19));
    }

    #[test]
    fn a_tick_serializes_its_full_frame_once_with_the_window() {
        let source = Arc::new(LiveSource::default());
        let t0 = Instant::now();
        {
            let mut w = source.window.lock().expect("not poisoned");
            w.sample(t0, 0, &stats(0, 0, 0));
            w.sample(t0 + Duration::from_secs(1), 1, &stats(7, 7, 0));
        }
        let tick = Tick::new(LiveFrame { seq: 4, stats: stats(7, 7, 0), ..Default::default() }, source);
        let delta: LiveFrame = wire::decode(tick.delta()).expect("a frame");
        assert!(!delta.full && delta.history.is_empty());
        let full: LiveFrame = wire::decode(tick.full()).expect("a frame");
        assert!(full.full);
        assert_eq!((full.seq, full.history.len(), full.stats.published), (4, 1, 7));
        assert_eq!(tick.full().as_ptr(), tick.full().as_ptr(), "made once, shared");
    }
}
