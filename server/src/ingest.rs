//! Ingest: the one way readings enter Pulse. Counts them in the ledger, then publishes them on
//! the pipeline's topic; whatever the pub/sub cannot deliver is counted as dropped.
//!
//! [`Ingest::try_publish`] never waits: when the pipeline's buffer lacks room it takes nothing
//! (HTTP answers 503 with `Retry-After`, so a client never gets 202 for an event that is then
//! lost; a replay stops with the rest still queued).
//!
//! With the Redis bus, [`Ingest::publish`] (HTTP, server functions) waits for Redis to confirm
//! the batch's entries, and `try_publish` (the simulator, which cannot wait) hands it to a
//! bounded set of detached publishes (`bus::RedisBus`); the ledger that balances is then the
//! cluster's.

use crate::bus::{BusError, RedisBus};
use crate::pubsub::{PubSub, PubSubError, Published};
use crate::telemetry::{DropReason, Ledger};
use app::model::SensorReading;
use std::sync::Arc;

/// Why readings were not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum IngestError {
    #[error("the server is shutting down and takes no more events")]
    ShuttingDown,
    /// The pipeline's buffer cannot take them all now; nothing was taken.
    #[error("the pipeline is full: {needed} events need room, {room} free; retry shortly")]
    Full { needed: usize, room: usize },
    /// Redis mode: the cluster's backlog bound is reached; nothing was taken.
    #[error("the cluster's backlog is full: {backlog} events not yet final, bound {bound}; retry shortly")]
    Backlog { backlog: u64, bound: u64 },
    /// Redis mode: Redis did not confirm the entry (unreachable, refused).
    #[error("degraded: {0}")]
    Bus(String),
}

impl IngestError {
    /// Whether the client should retry after a pause (HTTP adds `Retry-After`).
    pub(crate) fn retry_after(&self) -> bool {
        !matches!(self, IngestError::ShuttingDown)
    }
}

impl From<BusError> for IngestError {
    fn from(e: BusError) -> Self {
        match e {
            BusError::Backlog { backlog, bound } => IngestError::Backlog { backlog, bound },
            BusError::Closed => IngestError::ShuttingDown,
            // This node's publishes to Redis are all in flight: its intake is full.
            BusError::Busy { events } => IngestError::Full { needed: events as usize, room: 0 },
            other => IngestError::Bus(other.to_string()),
        }
    }
}

/// Cheap-clone handle used by the HTTP API, server functions and the demo publisher.
#[derive(Clone)]
pub(crate) struct Ingest {
    pubsub: PubSub<SensorReading>,
    ledger: Arc<Ledger>,
    topic: Arc<str>,
    /// The Redis bus, in redis mode: events go to its stream instead of the local pub/sub.
    bus: Option<RedisBus>,
}

impl Ingest {
    pub(crate) fn new(pubsub: PubSub<SensorReading>, ledger: Arc<Ledger>, topic: &str) -> Self {
        Self { pubsub, ledger, topic: topic.into(), bus: None }
    }

    /// The same ingest, publishing through `bus` (redis mode).
    pub(crate) fn with_bus(mut self, bus: Option<RedisBus>) -> Self {
        self.bus = bus;
        self
    }

    /// Publishes `readings` and returns once they are safe: in the pipeline (embedded), or in
    /// Redis as one entry (redis mode, which waits for Redis' answer).
    pub(crate) async fn publish(&self, readings: Vec<SensorReading>) -> Result<u64, IngestError> {
        match &self.bus {
            Some(bus) if !readings.is_empty() => {
                bus.publish(&readings).await?;
                Ok(readings.len() as u64)
            }
            _ => self.try_publish(readings),
        }
    }

    /// The topic the pipeline reads.
    pub(crate) fn topic(&self) -> &str {
        &self.topic
    }

    /// Publishes `readings` if the pipeline has room for all of them now, else takes none and
    /// says so ([`IngestError::Full`]). Never waits.
    pub(crate) fn try_publish(&self, readings: Vec<SensorReading>) -> Result<u64, IngestError> {
        let n = readings.len() as u64;
        if n == 0 {
            return Ok(0);
        }
        if let Some(bus) = &self.bus {
            return Ok(bus.publish_detached(readings)?);
        }
        self.ledger.published(n);
        let outcome = self.pubsub.try_broadcast(&self.topic, readings);
        self.settle(n, outcome)
    }

    /// Accounts for a publish of `n` already counted as published.
    fn settle(&self, n: u64, outcome: Result<Published, PubSubError>) -> Result<u64, IngestError> {
        match outcome {
            Ok(report) if report.subscribers == 0 => {
                self.ledger.dropped(DropReason::NoSubscriber, n);
                Ok(n)
            }
            // Losses of a dropping subscription are counted through its `lost` counter.
            Ok(_) => Ok(n),
            Err(PubSubError::Full { needed, room, .. }) => {
                self.ledger.unpublished(n);
                Err(IngestError::Full { needed, room })
            }
            // The topic was validated when the pipeline subscribed to it: only `Closed` is left.
            Err(PubSubError::Closed | PubSubError::InvalidTopic(_)) => {
                self.ledger.unpublished(n);
                Err(IngestError::ShuttingDown)
            }
        }
    }
}
