//! The live page's stream: one frame per tick on `/ws` (10 per second), the same bytes for
//! every client, encoded with postcard ([`super::wire`]). A frame carries the current stats, the per-second history points and the feed
//! items that are new since the previous tick; a *full* frame (sent when a socket opens or
//! when a slow client skipped ticks, and served as the first paint) carries the whole window.
//! The newest dead letters ride along too: in every full frame, and in a delta when they changed
//! (the page needs no request of its own to list them).
//! [`LiveModel`] is what a page keeps: frames merge into it, duplicates are ignored, so a full
//! frame and a delta may overlap without harm.

use super::{DeadLetterRow, Kind, StatsSnapshot};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Seconds of history the live charts show: five minutes.
pub const LIVE_HISTORY_POINTS: usize = 300;
/// Feed items a page keeps (and a full frame carries).
pub const FEED_ITEMS: usize = 50;
/// Most new feed items one delta frame carries: at high rates the feed is a sample.
pub const FEED_PER_FRAME: usize = 12;
/// Dead letters a page lists (the newest).
pub const DEAD_LETTERS_SHOWN: usize = 8;

/// One frame of the live stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveFrame {
    /// Tick number; a client that sees a gap was sent a full frame instead.
    pub seq: u64,
    /// When the server made the frame, unix milliseconds (delivery lag = arrival − this).
    pub at_unix_ms: u64,
    /// Whether `history` and `feed` hold the whole window rather than what is new.
    pub full: bool,
    pub stats: StatsSnapshot,
    /// Per-second points, oldest first.
    pub history: Vec<LivePoint>,
    /// Acknowledged messages, oldest first.
    pub feed: Vec<FeedItem>,
    /// The newest dead letters (at most [`DEAD_LETTERS_SHOWN`]), newest first: always in a full
    /// frame, in a delta only when they changed (`None`: as before).
    pub dead_letters: Option<Vec<DeadLetterRow>>,
}

/// One second of the pipeline's life, for the throughput, error-rate and latency charts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LivePoint {
    /// Increasing point number.
    pub seq: u64,
    /// End of the second, unix milliseconds.
    pub t_ms: u64,
    /// How long the point spans, milliseconds (about 1,000: it closes on the first tick after
    /// a second, so counts add up exactly to the ledger's).
    pub span_ms: u64,
    /// Messages published, processed, failed and dropped during the span.
    pub published: u64,
    pub processed: u64,
    pub failed: u64,
    pub dropped: u64,
    /// Publish → acknowledgement latency over the recent window, microseconds.
    pub p50_us: f64,
    pub p99_us: f64,
}

impl LivePoint {
    /// `count` (one of the point's counts) per second.
    pub fn per_s(&self, count: u64) -> f64 {
        if self.span_ms == 0 { 0.0 } else { count as f64 * 1000.0 / self.span_ms as f64 }
    }

    /// Share of the second's acknowledgements that failed, in percent (0 when idle).
    pub fn error_pct(&self) -> f64 {
        let acked = self.processed + self.failed;
        if acked == 0 { 0.0 } else { self.failed as f64 * 100.0 / acked as f64 }
    }
}

/// How a message in the feed ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedStatus {
    Processed,
    Failed,
}

impl FeedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedStatus::Processed => "processed",
            FeedStatus::Failed => "failed",
        }
    }
}

/// One acknowledged message as the feed shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    /// Increasing item number (the feed is a sample: numbers are not message counts).
    pub id: u64,
    /// When it was acknowledged, unix milliseconds.
    pub at_ms: u64,
    pub sensor: String,
    pub kind: Kind,
    pub value: f64,
    pub status: FeedStatus,
    /// Why it failed (the last attempt's reason), if it did.
    pub reason: Option<String>,
    /// Attempts it took (more than 1 when retried).
    pub attempts: u32,
}

/// What a live page holds: the newest stats, five minutes of points, the latest feed items.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveModel {
    pub stats: StatsSnapshot,
    pub history: VecDeque<LivePoint>,
    pub feed: VecDeque<FeedItem>,
    /// The newest dead letters, newest first.
    pub dead_letters: Vec<DeadLetterRow>,
    /// Sequence number of the last frame merged.
    pub seq: u64,
    /// Server time of the last frame merged, unix milliseconds.
    pub at_unix_ms: u64,
}

impl LiveModel {
    /// A model holding exactly what `frame` carries.
    pub fn from_frame(frame: LiveFrame) -> Self {
        let mut model = Self::default();
        model.merge(frame);
        model
    }

    /// Folds a frame in. A full frame replaces everything (it may come from a restarted server
    /// whose numbering began again); a delta replaces the stats and appends the points and items
    /// not already held. Both windows are trimmed to their bounds. A delta not newer than the
    /// frame held changes nothing.
    pub fn merge(&mut self, frame: LiveFrame) {
        if frame.full {
            self.history.clear();
            self.feed.clear();
            self.dead_letters.clear();
        } else if frame.seq <= self.seq {
            return;
        }
        self.seq = frame.seq;
        self.at_unix_ms = frame.at_unix_ms;
        self.stats = frame.stats;
        let last_point = self.history.back().map_or(0, |p| p.seq);
        self.history.extend(frame.history.into_iter().filter(|p| p.seq > last_point));
        while self.history.len() > LIVE_HISTORY_POINTS {
            self.history.pop_front();
        }
        let last_item = self.feed.back().map_or(0, |i| i.id);
        self.feed.extend(frame.feed.into_iter().filter(|i| i.id > last_item));
        while self.feed.len() > FEED_ITEMS {
            self.feed.pop_front();
        }
        if let Some(mut letters) = frame.dead_letters {
            letters.truncate(DEAD_LETTERS_SHOWN);
            self.dead_letters = letters;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(seq: u64) -> LivePoint {
        LivePoint { seq, t_ms: seq * 1000, processed: 9, failed: 1, ..Default::default() }
    }

    fn item(id: u64) -> FeedItem {
        FeedItem {
            id,
            at_ms: id,
            sensor: "s-1".into(),
            kind: Kind::Humidity,
            value: 50.0,
            status: FeedStatus::Processed,
            reason: None,
            attempts: 1,
        }
    }

    fn frame(seq: u64, full: bool, points: std::ops::Range<u64>, items: std::ops::Range<u64>) -> LiveFrame {
        LiveFrame {
            seq,
            full,
            history: points.map(point).collect(),
            feed: items.map(item).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn overlapping_frames_merge_without_duplicates() {
        let mut m = LiveModel::from_frame(frame(5, true, 1..4, 1..6));
        m.merge(frame(6, false, 3..5, 5..8));
        assert_eq!(m.history.iter().map(|p| p.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!(m.feed.iter().map(|i| i.id).collect::<Vec<_>>(), (1..8).collect::<Vec<_>>());
        assert_eq!(m.seq, 6);
    }

    #[test]
    fn windows_stay_bounded_and_keep_the_newest() {
        let mut m = LiveModel::default();
        m.merge(frame(1, true, 1..(LIVE_HISTORY_POINTS as u64 + 11), 1..(FEED_ITEMS as u64 + 21)));
        assert_eq!(m.history.len(), LIVE_HISTORY_POINTS);
        assert_eq!(m.history.front().map(|p| p.seq), Some(11));
        assert_eq!(m.feed.len(), FEED_ITEMS);
        assert_eq!(m.feed.back().map(|i| i.id), Some(FEED_ITEMS as u64 + 20));
    }

    #[test]
    fn a_stale_delta_is_ignored() {
        let mut m = LiveModel::from_frame(frame(9, true, 1..3, 1..3));
        m.merge(frame(4, false, 7..9, 7..9));
        assert_eq!(m.seq, 9);
        assert_eq!(m.history.len(), 2);
    }

    #[test]
    fn a_full_frame_from_a_restarted_server_starts_afresh() {
        let mut m = LiveModel::from_frame(frame(900, true, 100..200, 100..140));
        m.merge(frame(1, true, 1..3, 1..2));
        assert_eq!(m.history.iter().map(|p| p.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(m.feed.len(), 1);
        m.merge(frame(2, false, 3..4, 2..3));
        assert_eq!(m.history.len(), 3);
        assert_eq!(m.seq, 2);
    }

    fn letter(id: u64) -> DeadLetterRow {
        DeadLetterRow { id, what: format!("s-{id}"), reason: "out of range".into(), attempts: 3 }
    }

    #[test]
    fn dead_letters_change_only_when_a_frame_carries_them() {
        let mut m = LiveModel::from_frame(LiveFrame {
            seq: 1,
            full: true,
            dead_letters: Some(vec![letter(2), letter(1)]),
            ..Default::default()
        });
        m.merge(frame(2, false, 0..0, 0..0));
        assert_eq!(m.dead_letters.iter().map(|l| l.id).collect::<Vec<_>>(), vec![2, 1], "None keeps them");
        m.merge(LiveFrame {
            seq: 3,
            dead_letters: Some((1..20).rev().map(letter).collect()),
            ..Default::default()
        });
        assert_eq!(m.dead_letters.len(), DEAD_LETTERS_SHOWN);
        assert_eq!(m.dead_letters.first().map(|l| l.id), Some(19));
        m.merge(LiveFrame { seq: 4, dead_letters: Some(Vec::new()), ..Default::default() });
        assert!(m.dead_letters.is_empty(), "purged");
        // A restarted server's full frame without letters empties the list.
        m.merge(LiveFrame { seq: 1, full: true, dead_letters: Some(vec![letter(1)]), ..Default::default() });
        m.merge(LiveFrame { seq: 1, full: true, ..Default::default() });
        assert!(m.dead_letters.is_empty());
    }

    #[test]
    fn error_share_of_a_second() {
        assert_eq!(point(1).error_pct(), 10.0);
        let p = LivePoint { span_ms: 1_250, processed: 500, ..Default::default() };
        assert_eq!(p.per_s(p.processed), 400.0);
        assert_eq!(LivePoint::default().error_pct(), 0.0);
    }

    #[test]
    fn frames_round_trip_as_json() {
        let f = frame(3, false, 1..2, 1..2);
        let text = serde_json::to_string(&f).expect("serializes");
        assert!(text.contains("\"at_unix_ms\""));
        assert_eq!(serde_json::from_str::<LiveFrame>(&text).expect("parses"), f);
    }
}
