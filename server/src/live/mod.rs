//! What the live page and `/api/stats` show, built from everything below it: the snapshot
//! builder ([`Snapshots`]: ledger, aggregates, pipeline, pub/sub, simulator and dead-letter
//! queue, mapped to the wire types), the frames the WebSocket sends (`frames.rs`: history
//! points, delta and full frames) and the [`Reporter`] that makes one frame per tick.
//!
//! Data flows one way: the engine and the demo are read here, never the other way round.

mod frames;
mod reporter;
mod snapshot;

pub(crate) use frames::Tick;
pub(crate) use reporter::Reporter;
pub(crate) use snapshot::Snapshots;
