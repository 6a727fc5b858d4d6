//! The pipeline engine: the Rust counterpart of Broadway. A small public surface; the stages
//! are private, one per file.
//!
//! ```text
//! Producer ──demand──▶ processors ×N ──put_batcher──▶ batcher "a" ──▶ batch processors a ×M ──▶ Acknowledger
//!  (pub/sub,  ◀─chunks─  prepare_messages            (batch_size,        handle_batch            ack(ok, failed)
//!   generator,            handle_message              batch_timeout,      └─ failed ─▶ handle_failed ─┘
//!   test)                 └─ failed ─▶ handle_failed ─▶ ack              batch keys)
//! ```
//!
//! # Using it
//! Implement [`Handler`] (`handle_message`, and optionally `prepare_messages`, `handle_batch`,
//! `handle_failed`), pick a [`Producer`] ([`PubSubProducer`] for topics of the pub/sub), an
//! [`Acknowledger`] to be told each message's fate, and start it:
//! `Pipeline::start(PipelineConfig::default(), producer, handler, acknowledger)`.
//!
//! # Guarantees
//! - **Demand**: a processor asks for at most `max_demand` messages and asks again once what
//!   it waits for falls to `min_demand`; the producer never hands out more than asked, so a
//!   slow stage slows intake and every queue is bounded.
//! - **Exactly one acknowledgement** per message: failed ones once they fail (after
//!   `handle_failed`), successful ones after `handle_batch` (or after `handle_message` with
//!   [`Message::ack_immediately`], or when there is no batcher).
//! - **Crashes**: a panic in a handler fails that message (or batch) with the panic message as
//!   reason; the stage keeps going. A stage task that dies outright ([`Pipeline::kill`], or a
//!   panic in the engine itself) is restarted by the supervisor and counted. Everything a
//!   stage holds between awaits lives in its state outside the task (what a processor pulled,
//!   partial batches, full batches waiting for a batch processor), so its successor carries
//!   on: a kill loses nothing and fails nothing. What a dying task held on its own stack (a
//!   batch being handled when a panic unwinds) is failed by a drop guard (kind
//!   `"stage crashed"`) and acknowledged, never lost.
//! - **Shutdown**: [`Pipeline::stop`] drains in the order written in `terminator`, bounded by
//!   a timeout past which what is left is failed as `"shutdown timeout"`.
//! - **Telemetry**: every event is listed in [`telemetry`]; the built-in metrics turn them into
//!   per-stage counts, rates, busy ratios, queue depths and latency percentiles
//!   ([`Pipeline::stats`]).
//!
//! - **Run-time controls** (what Broadway cannot do): [`Pipeline::set_concurrency`] up or down
//!   without a restart, a lost or a repeated message; [`Pipeline::pause`] / [`Pipeline::resume`];
//!   [`Pipeline::update_rate_limit`] ([`RateLimit`]: `allowed_messages` per `interval`, shared
//!   by all processors).
//! - **Retries**: with `PipelineConfig::retry` ([`RetryPolicy`]), a failed message is
//!   acknowledged only after its last attempt; attempts are spaced by exponential back-off with
//!   jitter; `fail_permanently` skips them; the waiting queue is bounded.
//! - **Partitions**: with `processors.partitioned`, [`Handler::partition_by`] keys go to one
//!   processor each, handled in publish order, also across concurrency changes.
//!
//! # Testing
//! [`testing`] ships a test producer, a recording acknowledger, and `test_message` /
//! `test_batch`, which push messages through a real topology and hand back their acks.

mod ack;
mod batch_processor;
mod batcher;
mod config;
mod controls;
mod handle;
mod handler;
mod message;
mod metrics;
mod partition;
mod processor;
mod producer;
mod producer_stage;
mod rate_limit;
mod retry;
mod stats;
mod supervisor;
pub mod telemetry;
mod terminator;
pub mod testing;
mod topology;
mod window;

pub use ack::{AckChain, Acknowledger};
pub use config::{BatcherConfig, PipelineConfig, PipelineError, ProcessorConfig};
pub use handle::Pipeline;
pub use handler::{BatchInfo, Handler};
pub use message::{
    BatchKey, DEFAULT_BATCHER, EVENT_ID, Failure, Message, Metadata, PREVIOUS_FAILURE, Status,
};
pub use producer::{Gauge, GenerateProducer, Producer, PubSubProducer};
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use stats::{
    BatcherNode, ControlState, Percentiles, PipelineStats, ProcessorsNode, StageStats, Topology,
};
pub use telemetry::{BatchTrigger, Event, Observer, StageId};

#[cfg(test)]
mod tests;
