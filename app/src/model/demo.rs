//! The demo's simulated publisher, as the UI shows it.

use serde::{Deserialize, Serialize};

/// Slowest rate the simulated publisher accepts, in readings per second: slow enough to follow
/// each reading in the feed.
pub const SIMULATOR_MIN_RATE: u32 = 10;

/// Fastest rate the simulated publisher accepts, in readings per second: about what the engine
/// takes on this machine kind with the page open (`cargo bench -p server --bench pipeline`).
pub const SIMULATOR_MAX_RATE: u32 = 2_000_000;

/// The simulated publisher: a fleet of sensors sending at a steady rate, with a chosen share of
/// out-of-range readings (failure injection).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatorState {
    pub running: bool,
    /// Readings per second it aims for.
    pub rate_per_s: u32,
    /// Share of readings sent out of range, in percent.
    pub invalid_pct: u8,
    /// Readings it published since the server started.
    pub published: u64,
    /// Readings it had to drop because the pipeline was full (counted in the ledger's
    /// `dropped` as "pipeline full: publisher's excess").
    pub dropped: u64,
}
