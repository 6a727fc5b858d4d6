//! Taps: subscribers an operator adds to the pub/sub from the page, to watch a topic or a
//! wildcard pattern with a chosen buffer, overflow policy and reading pace. A slow tap shows
//! what each overflow policy does (drop newest, drop oldest, or block the publisher, which
//! turns into 503s and counted drops at the intake) with its losses counted in the stats.

use crate::pubsub::{Overflow, PubSub, PubSubError, SubscribeConfig};
use app::model::SensorReading;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Most taps at once.
pub(super) const MAX_TAPS: usize = 16;
/// Largest tap buffer, in messages.
pub(super) const MAX_TAP_CAPACITY: u32 = 100_000;

/// Why a tap was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum TapError {
    #[error(transparent)]
    PubSub(#[from] PubSubError),
    #[error("capacity must be between 1 and {MAX_TAP_CAPACITY} messages, got {0}")]
    Capacity(u32),
    #[error("at most {MAX_TAPS} taps at once: remove one first")]
    TooMany,
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// Cheap-clone handle to the running taps.
#[derive(Clone)]
pub(crate) struct Taps {
    pubsub: PubSub<SensorReading>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    running: Arc<Mutex<HashMap<u64, CancellationToken>>>,
}

impl Taps {
    pub(crate) fn new(
        pubsub: PubSub<SensorReading>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Self {
        Self { pubsub, shutdown, tracker, running: Arc::default() }
    }

    /// Subscribes a tap to `pattern` that reads `read_per_s` messages a second (0: never reads,
    /// so its buffer fills); returns its subscriber id.
    pub(crate) fn add(
        &self,
        pattern: &str,
        capacity: u32,
        overflow: Overflow,
        read_per_s: u32,
    ) -> Result<u64, TapError> {
        if capacity == 0 || capacity > MAX_TAP_CAPACITY {
            return Err(TapError::Capacity(capacity));
        }
        if self.shutdown.is_cancelled() {
            return Err(TapError::ShuttingDown);
        }
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.len() >= MAX_TAPS {
            return Err(TapError::TooMany);
        }
        let config =
            SubscribeConfig::with_overflow(capacity as usize, overflow).named(format!("tap {pattern}"));
        let mut subscription = self.pubsub.subscribe(pattern, config)?;
        let id = subscription.id().get();
        let stop = self.shutdown.child_token();
        running.insert(id, stop.clone());
        drop(running);
        let pace = (read_per_s > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(read_per_s)));
        self.tracker.spawn(async move {
            // Dropping the subscription when this ends unsubscribes the tap.
            let Some(pace) = pace else { return stop.cancelled().await };
            let mut debt = Duration::ZERO;
            loop {
                let delivery = tokio::select! {
                    () = stop.cancelled() => return,
                    d = subscription.recv() => d,
                };
                let Some(delivery) = delivery else { return };
                // Reads at its pace: a chunk of n takes n × pace (slept in steps of ≥ 1 ms).
                debt += pace * delivery.items.len() as u32;
                if debt >= Duration::from_millis(1) {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(debt) => {}
                    }
                    debt = Duration::ZERO;
                }
            }
        });
        tracing::info!(id, pattern, capacity, ?overflow, read_per_s, "tap subscribed");
        Ok(id)
    }

    /// Unsubscribes tap `id` (at once: it is gone from the stats on return); false if there
    /// is no such tap.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let stop = self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        let Some(stop) = stop else { return false };
        self.pubsub.unsubscribe(id.into());
        stop.cancel();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taps() -> (Taps, PubSub<SensorReading>) {
        let pubsub = PubSub::new();
        (Taps::new(pubsub.clone(), CancellationToken::new(), TaskTracker::new()), pubsub)
    }

    fn reading() -> SensorReading {
        SensorReading { sensor: "s-1".into(), kind: app::model::Kind::Humidity, value: 40.0, at: None }
    }

    #[tokio::test]
    async fn a_tap_that_never_reads_loses_what_its_buffer_cannot_hold() {
        let (taps, pubsub) = taps();
        let id = taps.add("sensors.*", 10, Overflow::DropOldest, 0).expect("valid");
        pubsub.broadcast("sensors.humidity", vec![reading(); 25]).await.expect("open");
        let stats = pubsub.stats();
        let tap = stats.subscribers.iter().find(|s| s.id == id).expect("listed");
        assert_eq!((tap.buffered, tap.lost, tap.overflow), (10, 15, Overflow::DropOldest));
        assert_eq!(tap.name, "tap sensors.*");
        assert!(taps.remove(id));
        assert!(!taps.remove(id), "already gone");
    }

    #[tokio::test]
    async fn bad_taps_are_refused_with_their_reason() {
        let (taps, _) = taps();
        assert_eq!(taps.add("a", 0, Overflow::Block, 1), Err(TapError::Capacity(0)));
        assert!(matches!(taps.add("a..b", 5, Overflow::Block, 1), Err(TapError::PubSub(_))));
        for _ in 0..MAX_TAPS {
            taps.add("a", 5, Overflow::DropNewest, 0).expect("room");
        }
        assert_eq!(taps.add("a", 5, Overflow::DropNewest, 0), Err(TapError::TooMany));
    }
}
