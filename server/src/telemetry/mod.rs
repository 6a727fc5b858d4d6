//! Telemetry: the ledger every message is accounted in, the batcher's per-kind aggregates,
//! rates, the feed of recent messages, and the reporter that turns them into the frames the
//! live page streams (`live.rs`: history points, delta and full frames).

mod aggregates;
mod feed;
mod ledger;
mod live;
mod rates;
mod reporter;

pub use aggregates::Aggregates;
pub use feed::{Feed, unix_ms};
pub use ledger::{DropReason, Ledger};
pub use live::Tick;
pub use reporter::{Reporter, SNAPSHOT_INTERVAL};

use crate::dead_letters::DeadLetterQueue;
use crate::demo::Simulator;
use crate::pipeline::Pipeline;
use crate::pubsub::PubSub;
use app::model::{SensorReading, StatsSnapshot};
use rates::Rates;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Cheap-clone handle to everything the stats snapshot is built from.
#[derive(Clone)]
pub struct Stats {
    /// Every message published and how it ended.
    pub ledger: Arc<Ledger>,
    /// Per-kind aggregates written by the batch handler.
    pub aggregates: Arc<Aggregates>,
    /// The engine, for its topology, per-stage statistics and latency.
    pub pipeline: Pipeline,
    /// The hub, for its topics and subscribers.
    pub pubsub: PubSub<SensorReading>,
    /// The demo's simulated publisher.
    pub simulator: Simulator,
    /// Messages the pipeline gave up on.
    pub dead_letters: DeadLetterQueue,
    rates: Arc<Mutex<Rates>>,
    started: Instant,
}

impl Stats {
    pub fn new(
        ledger: Arc<Ledger>,
        aggregates: Arc<Aggregates>,
        pipeline: Pipeline,
        pubsub: PubSub<SensorReading>,
        simulator: Simulator,
        dead_letters: DeadLetterQueue,
    ) -> Self {
        Self {
            ledger,
            aggregates,
            pipeline,
            pubsub,
            simulator,
            dead_letters,
            rates: Arc::default(),
            started: Instant::now(),
        }
    }

    /// Records a rate sample now; the reporter calls this on every tick.
    pub fn sample_rates(&self) {
        let (acked, failed) = self.ledger.acked();
        self.rates.lock().unwrap_or_else(|e| e.into_inner()).sample(Instant::now(), acked, failed);
    }

    /// The ledger as it is now (read live, so it is never stale) with the latest rates.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut s = StatsSnapshot::default();
        self.ledger.fill(&mut s);
        let rates = self.rates.lock().unwrap_or_else(|e| e.into_inner());
        s.throughput_per_s = rates.acked_per_s();
        s.failed_per_s = rates.failed_per_s();
        drop(rates);
        let acked = s.processed + s.failed;
        s.error_rate_pct = if acked == 0 { 0.0 } else { s.failed as f64 * 100.0 / acked as f64 };
        s.uptime_ms = self.started.elapsed().as_millis() as u64;
        s.kinds = self.aggregates.snapshot();
        s.pipeline = self.pipeline.stats();
        s.pubsub = self.pubsub.stats();
        s.simulator = self.simulator.state();
        s.dead_letters = self.dead_letters.stats();
        s
    }
}
