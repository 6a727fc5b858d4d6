//! Pulse's server: an in-process pub/sub, a Broadway-style pipeline, HTTP ingest, the live
//! WebSocket stream and the Leptos pages, in one axum binary.
//!
//! # Layout
//! - [`pubsub`]: the topic hub (`PubSub`), bounded subscriber buffers, counted losses.
//! - [`pipeline`]: the engine (`Pipeline`): producer, processors, batcher, acknowledgement.
//! - `readings`: Pulse's own pipeline work on sensor readings.
//! - [`dlq`]: the dead-letter queue's durable store (`DeadLetters`), bounded, on disk.
//! - `telemetry`: the ledger, the feed of recent messages, aggregates, rates (a leaf).
//! - `ingest`: the one way events enter; `dead_letters`: failed messages to the durable store,
//!   list / replay / purge; `demo`: generated sensor traffic, the simulator, taps.
//! - `live`: the snapshot builder, the live frames and their reporter (reads all of the above);
//!   `wire`: the engine's types mapped to `app::model`, at the edge.
//! - `api`: HTTP; `ws`: the live stream; `backend`: what server functions can do; `state`:
//!   the handles every handler gets.
//! - [`guard`]: the allowed hosts, cross-site refusals and the security headers (CSP).
//! - `server`: wiring and [`run`]; `shutdown`: the drain order; [`config`]: settings.
//! - [`observe`]: the dashboard's history, system figures, `/metrics`, the log tail, logging.
//! - [`bus`]: the Redis bus (`--bus redis://...`): nodes sharing one stream, the cluster ledger.

mod api;
mod backend;
pub mod bus;
mod cluster;
pub mod config;
mod dead_letters;
mod demo;
pub mod dlq;
pub mod guard;
mod ingest;
mod live;
pub mod observe;
pub mod pipeline;
pub mod pubsub;
mod rate;
mod readings;
mod serve;
mod server;
mod shutdown;
mod state;
mod telemetry;
mod wire;
mod ws;

pub use config::{Limits, ServerConfig};
pub use server::run;
