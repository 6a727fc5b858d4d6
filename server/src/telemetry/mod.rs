//! Telemetry: the counters Pulse keeps about its own messages. A leaf: it knows the engine's
//! message and acknowledgement types and the wire types it fills, and nothing above it.
//!
//! - [`Ledger`]: every published message, and how it ended (processed, failed with its reason,
//!   dropped with why). An [`Acknowledger`](crate::pipeline::Acknowledger) and an
//!   [`Observer`](crate::pipeline::Observer) of the pipeline.
//! - [`Feed`]: a sample of the latest acknowledged messages (an acknowledger too).
//! - [`Aggregates`]: per-kind figures the batch handler folds in.
//! - [`Rates`]: acknowledged and failed per second, from samples of the ledger.

mod aggregates;
mod feed;
mod ledger;
mod rates;

pub(crate) use aggregates::Aggregates;
pub(crate) use feed::{Feed, unix_ms};
pub(crate) use ledger::{DropReason, Ledger, failure_kind};
pub(crate) use rates::Rates;
