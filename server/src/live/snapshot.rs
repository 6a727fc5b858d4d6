//! The snapshot builder: reads every part live and maps what it reads to the wire type
//! (`app::model::StatsSnapshot`) the page, `/api/stats` and the dashboard share.

use crate::dead_letters::DeadLetterQueue;
use crate::demo::Simulator;
use crate::pipeline::Pipeline;
use crate::pubsub::PubSub;
use crate::telemetry::{Aggregates, Ledger, Rates};
use crate::wire;
use app::model::{SensorReading, StatsSnapshot};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Cheap-clone handle to what a snapshot is read from.
#[derive(Clone)]
pub(crate) struct Snapshots {
    ledger: Arc<Ledger>,
    aggregates: Arc<Aggregates>,
    pipeline: Pipeline,
    pubsub: PubSub<SensorReading>,
    simulator: Simulator,
    dead_letters: DeadLetterQueue,
    rates: Arc<Mutex<Rates>>,
    started: Instant,
}

impl Snapshots {
    pub(crate) fn new(
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
    pub(crate) fn sample_rates(&self) {
        let (acked, failed) = self.ledger.acked();
        self.rates.lock().unwrap_or_else(|e| e.into_inner()).sample(Instant::now(), acked, failed);
    }

    /// The ledger as it is now (read live, so it is never stale) with the latest rates.
    pub(crate) fn now(&self) -> StatsSnapshot {
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
        s.pipeline = wire::pipeline_stats(self.pipeline.stats());
        s.pubsub = wire::pubsub_stats(self.pubsub.stats());
        s.simulator = self.simulator.state();
        s.dead_letters = self.dead_letters.stats();
        s
    }

    /// The dead-letter queue, for the reporter's list of the newest letters.
    pub(crate) fn dead_letters(&self) -> &DeadLetterQueue {
        &self.dead_letters
    }
}
