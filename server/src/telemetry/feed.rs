//! The feed: a small sample of the latest acknowledged messages (sensor, kind, value, how it
//! ended and why), for the live page's message list.
//!
//! The acknowledger records into it once per acknowledged chunk or batch, a few messages each:
//! failures first (they are what a visitor looks for), then the newest successes. At 100k msg/s
//! that is a sample, by design; the ledger, not the feed, counts everything. Recording never
//! waits: if another thread holds the lock the chunk is skipped.

use crate::pipeline::{Acknowledger, Message, Status};
use app::model::{FeedItem, FeedStatus, SensorReading};
use std::collections::VecDeque;
use std::sync::{Mutex, TryLockError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Items kept: enough for a full frame's window with room for one tick's news.
const CAPACITY: usize = 64;
/// Most failed / successful messages taken from one acknowledgement.
const FAILED_PER_ACK: usize = 4;
const OK_PER_ACK: usize = 2;

/// The ring of recent items and the next item number.
#[derive(Default)]
pub(crate) struct Feed {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    items: VecDeque<FeedItem>,
    next_id: u64,
}

impl Feed {
    /// Records a few of one acknowledgement's messages.
    pub(crate) fn record(&self, successful: &[Message<SensorReading>], failed: &[Message<SensorReading>]) {
        let mut inner = match self.inner.try_lock() {
            Ok(inner) => inner,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let at_ms = unix_ms();
        let ok = successful.iter().rev().take(OK_PER_ACK).rev();
        for m in failed.iter().take(FAILED_PER_ACK).chain(ok) {
            inner.next_id += 1;
            let id = inner.next_id;
            inner.items.push_back(item(id, at_ms, m));
            if inner.items.len() > CAPACITY {
                inner.items.pop_front();
            }
        }
    }

    /// Items numbered after `after`, at most `max` of them (the newest), oldest first.
    pub(crate) fn after(&self, after: u64, max: usize) -> Vec<FeedItem> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let new = inner.items.iter().filter(|i| i.id > after).count();
        inner.items.iter().skip(inner.items.len() - new.min(max)).cloned().collect()
    }
}

/// The feed's link in the acknowledgement chain: records a sample of every acknowledgement.
impl Acknowledger<SensorReading> for Feed {
    fn ack(&self, successful: &[Message<SensorReading>], failed: &[Message<SensorReading>]) {
        self.record(successful, failed);
    }
}

fn item(id: u64, at_ms: u64, m: &Message<SensorReading>) -> FeedItem {
    let (status, reason) = match &m.status {
        Status::Ok => (FeedStatus::Processed, None),
        Status::Failed(f) => (FeedStatus::Failed, Some(f.reason.clone())),
    };
    FeedItem {
        id,
        at_ms,
        sensor: m.data.sensor.clone(),
        kind: m.data.kind,
        value: m.data.value,
        status,
        reason,
        attempts: m.attempt(),
    }
}

/// Now, in unix milliseconds (0 if the clock is before 1970).
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Kind;
    use std::time::Instant;

    fn msg(sensor: &str, value: f64) -> Message<SensorReading> {
        Message::new(
            SensorReading { sensor: sensor.into(), kind: Kind::Temperature, value, at: None },
            Instant::now(),
        )
    }

    #[test]
    fn failures_first_then_the_newest_successes_with_reasons() {
        let feed = Feed::default();
        let ok: Vec<_> = (0..10).map(|i| msg(&format!("ok-{i}"), 20.0)).collect();
        let failed =
            vec![msg("bad", 500.0).failed("temperature out of range", "temperature 500 out of range")];
        feed.record(&ok, &failed);
        let items = feed.after(0, 10);
        let sensors: Vec<_> = items.iter().map(|i| i.sensor.as_str()).collect();
        assert_eq!(sensors, vec!["bad", "ok-8", "ok-9"]);
        assert_eq!(items[0].status, FeedStatus::Failed);
        assert_eq!(items[0].reason.as_deref(), Some("temperature 500 out of range"));
        assert_eq!(items[1].reason, None);
        assert_eq!(items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(items[0].attempts, 1);
    }

    #[test]
    fn bounded_and_after_gives_only_the_newest() {
        let feed = Feed::default();
        for i in 0..100 {
            feed.record(&[msg(&format!("s-{i}"), 1.0)], &[]);
        }
        assert_eq!(feed.after(0, usize::MAX).len(), CAPACITY);
        let newest = feed.after(95, 3);
        assert_eq!(newest.iter().map(|i| i.id).collect::<Vec<_>>(), vec![98, 99, 100]);
        assert!(feed.after(100, 5).is_empty());
    }
}
