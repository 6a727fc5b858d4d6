//! The pipeline engine: a Broadway-style topology of stages fed by the pub/sub.
//!
//! ```text
//! pub/sub topic ──▶ producer ──demand──▶ processors ×N ──▶ batcher ──▶ acknowledger
//!                    (buffer)   chunks   handle_message     handle_batch   (ok / failed)
//!                                          └── failed ─────────────────────▶ acknowledger
//! ```
//! - Demand-driven: a processor asks for up to `max_demand` messages and receives a chunk; the
//!   producer takes from its subscription only when asked, so a slow stage slows intake and
//!   nothing buffers without bound.
//! - Every message is acknowledged exactly once: failed ones as they fail (validation, a panic in
//!   `handle_message`, a panic in `handle_batch`), successful ones after their batch is handled.
//! - Shutdown: close the topic on the pub/sub; the producer drains what is buffered, processors
//!   finish, the batcher flushes its partial batch, then every task ends (see `crate::shutdown`).

mod ack;
mod batcher;
mod handler;
mod message;
mod processor;
mod producer;
mod topology;

pub use ack::Acknowledger;
pub use handler::Handler;
pub use message::{Failure, Message, Status};
pub use topology::{Pipeline, PipelineConfig, PipelineError, PipelineHooks};

#[cfg(test)]
mod tests;
