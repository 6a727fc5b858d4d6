//! Demo traffic: readings generated the way a fleet of real sensors would send them.

mod sample;

pub use sample::{INVALID_SHARE, generate};
