//! Reusable view pieces of the live page, one role per file.

mod connection;
mod counters;
mod kinds;
mod publish;

pub use connection::ConnectionBadge;
pub use counters::Counters;
pub use kinds::{FailureReasons, KindTable};
pub use publish::PublishButtons;
