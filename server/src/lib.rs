//! Pulse's server: an in-process pub/sub, a Broadway-style pipeline, HTTP ingest, the live
//! WebSocket stream and the Leptos pages, in one axum binary.
//!
//! # Layout
//! - [`pubsub`]: the topic hub ([`PubSub`]), bounded subscriber buffers, counted losses.
//! - [`pipeline`]: the engine ([`Pipeline`]): producer, processors, batcher, acknowledgement.
//! - [`readings`]: Pulse's own pipeline work on sensor readings.
//! - [`dlq`]: the dead-letter queue's durable store ([`DeadLetters`]), bounded, on disk.
//! - [`telemetry`]: the ledger, aggregates, rates and the snapshot reporter.
//! - [`dead_letters`]: failed messages to the durable store, list / replay / purge.
//! - [`ingest`]: the one way events enter; [`api`]: HTTP; [`ws`]: the live stream;
//!   `backend`: what server functions can do.
//! - [`server`]: wiring and [`run`]; `shutdown`: the drain order; [`config`]: settings.
//! - [`demo`]: generated sensor traffic.
//! - [`observe`]: the dashboard's history, system figures, `/metrics`, the log tail, logging.

pub mod api;
mod backend;
pub mod config;
pub mod dead_letters;
pub mod demo;
pub mod dlq;
pub mod ingest;
pub mod observe;
pub mod pipeline;
pub mod pubsub;
pub mod readings;
mod rpc_status;
pub mod server;
mod shutdown;
pub mod state;
pub mod telemetry;
pub mod ws;

pub use config::ServerConfig;
pub use dlq::DeadLetters;
pub use pipeline::Pipeline;
pub use pubsub::PubSub;
pub use server::run;
