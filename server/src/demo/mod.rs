//! Demo traffic: readings generated the way a fleet of real sensors would send them, the
//! simulated publisher that sends them, and taps that watch the pub/sub.

mod sample;
mod simulator;
mod taps;

pub(crate) use sample::{generate, generate_with};
pub(crate) use simulator::{Simulator, SimulatorError};
pub(crate) use taps::{TapError, Taps};
