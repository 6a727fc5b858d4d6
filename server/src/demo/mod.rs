//! Demo traffic: readings generated the way a fleet of real sensors would send them, the
//! simulated publisher that sends them, and taps that watch the pub/sub.

mod sample;
mod simulator;
mod taps;

pub use sample::{INVALID_SHARE, generate, generate_with};
pub use simulator::{Simulator, SimulatorError, TICK};
pub use taps::{MAX_TAP_CAPACITY, MAX_TAPS, TapError, Taps};
