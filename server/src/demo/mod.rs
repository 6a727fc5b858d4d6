//! Demo traffic: readings generated the way a fleet of real sensors would send them.

mod sample;
mod simulator;

pub use sample::{INVALID_SHARE, generate, generate_with};
pub use simulator::{Simulator, SimulatorError, TICK};
