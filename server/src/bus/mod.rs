//! The Redis bus (issue 14): several Pulse nodes share the work through one Redis Stream and
//! one consumer group, and lose nothing they acknowledged. The embedded bus (the in-process
//! pub/sub) stays the default; this module is used only with `--bus redis://...`.
//!
//! # Layout
//! - `config.rs`: [`BusConfig`], the key names, the `--bus` value.
//! - `codec.rs`: an entry (one publish batch) to and from the stream's fields; event ids.
//! - `scripts.rs`: the Lua scripts that change the stream and the ledgers in one atomic step.
//! - `handle.rs`: [`RedisBus`], the cheap-clone handle: connect, publish, health.
//! - `startup.rs`: the checks at join (version, persistence, eviction, the node's name).
//! - `producer.rs`: [`RedisProducer`], the engine's `Producer` reading the group with demand.
//! - `reader.rs`: the reader task behind the producer (own pending entries first, then new).
//! - `acks.rs`: the pipeline's acknowledgements → per-entry countdowns → batched `XACK`s.
//! - `liveness.rs`: the heartbeat, the reaper lease, claims of dead nodes' entries, trimming.
//! - `letters.rs`: the cluster's dead-letter queue ([`ClusterLetters`]: list, atomic replay,
//!   purge), poison and corrupt entries kept as letters.
//! - `broadcast.rs`: the hub's cluster-scoped broadcasts across nodes (one pub/sub channel).
//! - `cluster.rs`: the cluster view `GET /api/cluster` answers.
//! - `record.rs`: a test aid, every acknowledged event's id to a file (`--record-acks`).
//!
//! # Guarantees
//! - `POST /api/events` answers 202 only once its entry is in Redis; past the backlog bound
//!   (events published and not yet final, cluster-wide) it answers 503 with `Retry-After`.
//! - An entry is `XACK`ed only once every event of it reached a final outcome, in the same
//!   script that counts the outcomes in the node's ledger hash; an ack that found nothing
//!   pending is counted as a duplicate, never silently.
//! - Trimming never removes an undelivered or pending entry (`XTRIM MINID`, never `MAXLEN`).
//! - A failed event's dead letter is added to the cluster's queue in the script that
//!   acknowledges its entry (once, even when the entry is acknowledged twice); replay removes
//!   letters in the script that publishes them again.

mod acks;
mod broadcast;
mod cluster;
mod codec;
mod config;
mod controls;
mod handle;
mod letters;
mod liveness;
mod producer;
mod reader;
mod record;
mod scripts;
mod startup;

pub(crate) use acks::RedisAcker;
pub(crate) use cluster::embedded_view;
pub use cluster::{BroadcastFigures, ClusterView, NodeLedger, NodeView};
pub use codec::{EntryId, event_id};
pub use config::{BusConfig, BusSetting, Keys};
pub use controls::{Apply, Command, ControlError, Report};
pub use handle::RedisBus;
pub use letters::ClusterLetters;
pub use producer::RedisProducer;
pub use record::AckRecorder;

/// What can go wrong talking to Redis or with what it holds.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Redis refused the command or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The server is older than the commands the bus needs (`XAUTOCLAIM`: 6.2).
    #[error("redis {found} is too old: the bus needs 6.2 or later (XAUTOCLAIM)")]
    TooOld { found: String },
    /// Redis may evict keys under memory pressure: the stream, or a live node's heartbeat.
    #[error(
        "redis maxmemory-policy is {policy}: it may evict the events stream or a live node's heartbeat; set it to noeviction"
    )]
    Evicting { policy: String },
    /// Another live node holds this node's name (its heartbeat key exists).
    #[error(
        "the node name {name:?} is held by a live node (its heartbeat key {key} exists); choose another --node-name or wait {ttl_ms} ms"
    )]
    NameTaken { name: String, key: String, ttl_ms: u64 },
    /// More events are published and not yet final than the backlog bound allows.
    #[error("the cluster's backlog is full: {backlog} events not yet final, bound {bound}; retry shortly")]
    Backlog { backlog: u64, bound: u64 },
    /// Too many detached publishes are waiting for Redis; nothing was taken.
    #[error("{DETACHED} publishes are waiting for Redis: {events} events not taken; retry shortly", DETACHED = handle::DETACHED_PUBLISHES)]
    Busy { events: u64 },
    /// An entry's fields could not be read.
    #[error("entry {id}: {why}")]
    Corrupt { id: String, why: String },
    /// Redis was unreachable at the last try; nothing was sent.
    #[error("{0}")]
    Degraded(String),
    /// The bus is shutting down.
    #[error("the bus is shutting down")]
    Closed,
}
