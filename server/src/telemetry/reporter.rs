//! The reporter: on a fixed tick, samples rates and publishes one serialized snapshot that every
//! WebSocket sends as is. Serialized once per tick, never per client; coalesced whatever the
//! event rate.

use super::Stats;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often snapshots are published: 10 per second.
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(100);

/// Cheap-clone handle to the latest serialized snapshot.
#[derive(Clone)]
pub struct Reporter {
    latest: watch::Receiver<Arc<str>>,
}

impl Reporter {
    /// Starts the tick task; it stops when `stop` is cancelled, after one final snapshot.
    pub fn start(stats: Stats, stop: CancellationToken, tracker: &tokio_util::task::TaskTracker) -> Self {
        let (tx, latest) = watch::channel(serialize(&stats));
        tracker.spawn(async move {
            let mut tick = tokio::time::interval(SNAPSHOT_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        stats.sample_rates();
                        tx.send_replace(serialize(&stats));
                    }
                    () = stop.cancelled() => {
                        tx.send_replace(serialize(&stats));
                        break;
                    }
                }
            }
        });
        Self { latest }
    }

    /// A receiver that sees each new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Arc<str>> {
        self.latest.clone()
    }
}

fn serialize(stats: &Stats) -> Arc<str> {
    // A snapshot of plain numbers and strings always serializes.
    serde_json::to_string(&stats.snapshot())
        .map_or_else(|e| format!(r#"{{"error":"{e}"}}"#).into(), Into::into)
}
