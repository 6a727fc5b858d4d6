//! The simulated publisher: readings at a steady rate, with a chosen share out of range, so a
//! visitor can load the pipeline and inject failures from the page.
//!
//! It publishes a slice every [`TICK`], as many as the rate says are due (so the rate holds
//! whatever the tick jitter), never waiting for room: when the pipeline is full the slice is
//! counted as published and dropped ("pipeline full: publisher's excess"), which is what a
//! real fleet of sensors that cannot buffer would lose. Memory stays bounded however far the
//! rate exceeds what the pipeline can take.

use super::generate_with;
use crate::ingest::{Ingest, IngestError};
use crate::telemetry::{DropReason, Ledger};
use app::model::{SIMULATOR_MAX_RATE, SIMULATOR_MIN_RATE, SimulatorState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often a slice is published.
pub(super) const TICK: Duration = Duration::from_millis(10);
/// Most readings due at once (after a stall the simulator does not try to catch up beyond this).
const MAX_SLICE: u64 = 50_000;

/// Why the simulator refused to start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum SimulatorError {
    #[error(
        "rate must be between {SIMULATOR_MIN_RATE} and {SIMULATOR_MAX_RATE} readings per second, got {0}"
    )]
    Rate(u32),
    #[error("invalid share must be between 0 and 100 %, got {0}")]
    InvalidShare(u8),
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// Cheap-clone handle: start, stop, read its state.
#[derive(Clone)]
pub(crate) struct Simulator {
    ingest: Ingest,
    ledger: Arc<Ledger>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    running: Arc<Mutex<Option<Running>>>,
    published: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
}

struct Running {
    rate_per_s: u32,
    invalid_pct: u8,
    stop: CancellationToken,
}

impl Simulator {
    /// A stopped simulator; its task (once started) ends with `shutdown` and is tracked by
    /// `tracker`, so the drain waits for it.
    pub(crate) fn new(
        ingest: Ingest,
        ledger: Arc<Ledger>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Self {
        Self {
            ingest,
            ledger,
            shutdown,
            tracker,
            running: Arc::default(),
            published: Arc::default(),
            dropped: Arc::default(),
        }
    }

    /// Starts publishing `rate_per_s` readings a second, `invalid_pct` % of them out of range;
    /// a running simulator switches to the new settings.
    pub(crate) fn start(&self, rate_per_s: u32, invalid_pct: u8) -> Result<(), SimulatorError> {
        if !(SIMULATOR_MIN_RATE..=SIMULATOR_MAX_RATE).contains(&rate_per_s) {
            return Err(SimulatorError::Rate(rate_per_s));
        }
        if invalid_pct > 100 {
            return Err(SimulatorError::InvalidShare(invalid_pct));
        }
        if self.shutdown.is_cancelled() {
            return Err(SimulatorError::ShuttingDown);
        }
        let stop = self.shutdown.child_token();
        let previous = self.lock().replace(Running { rate_per_s, invalid_pct, stop: stop.clone() });
        if let Some(previous) = previous {
            previous.stop.cancel();
        }
        let this = self.clone();
        self.tracker.spawn(async move { this.run(rate_per_s, f64::from(invalid_pct) / 100.0, stop).await });
        tracing::info!(rate_per_s, invalid_pct, "simulated publisher started");
        Ok(())
    }

    /// Stops publishing (no-op when stopped).
    pub(crate) fn stop(&self) {
        if let Some(running) = self.lock().take() {
            running.stop.cancel();
            tracing::info!("simulated publisher stopped");
        }
    }

    /// Its settings and counts now.
    pub(crate) fn state(&self) -> SimulatorState {
        let running = self.lock();
        SimulatorState {
            running: running.is_some(),
            rate_per_s: running.as_ref().map_or(0, |r| r.rate_per_s),
            invalid_pct: running.as_ref().map_or(0, |r| r.invalid_pct),
            published: self.published.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn run(self, rate_per_s: u32, invalid_share: f64, stop: CancellationToken) {
        let mut rng = fastrand::Rng::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let started = Instant::now();
        let mut sent = 0u64;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let due = (started.elapsed().as_secs_f64() * f64::from(rate_per_s)) as u64;
            let n = due.saturating_sub(sent).min(MAX_SLICE);
            if n == 0 {
                continue;
            }
            sent = sent.max(due - n) + n; // a capped slice forgets what it could not catch up
            let readings = generate_with(n as usize, invalid_share, &mut rng);
            match self.ingest.try_publish(readings) {
                Ok(accepted) => {
                    self.published.fetch_add(accepted, Ordering::Relaxed);
                }
                Err(IngestError::Full { .. } | IngestError::Backlog { .. } | IngestError::Bus(_)) => {
                    self.ledger.published(n);
                    self.ledger.dropped(DropReason::Overloaded, n);
                    self.published.fetch_add(n, Ordering::Relaxed);
                    self.dropped.fetch_add(n, Ordering::Relaxed);
                }
                Err(IngestError::ShuttingDown) => return,
            }
        }
    }
}
