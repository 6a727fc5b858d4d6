//! Ingest: the one way readings enter Pulse. Counts them in the ledger, then publishes them on
//! the pipeline's topic; whatever the pub/sub cannot deliver is counted as dropped.

use crate::pubsub::{PubSub, PubSubError};
use crate::telemetry::{DropReason, Ledger};
use app::model::SensorReading;
use std::sync::Arc;

/// Why readings were not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    #[error("the server is shutting down and takes no more events")]
    ShuttingDown,
}

/// Cheap-clone handle used by the HTTP API, server functions and the demo publisher.
#[derive(Clone)]
pub struct Ingest {
    pubsub: PubSub<SensorReading>,
    ledger: Arc<Ledger>,
    topic: Arc<str>,
}

impl Ingest {
    pub fn new(pubsub: PubSub<SensorReading>, ledger: Arc<Ledger>, topic: &str) -> Self {
        Self { pubsub, ledger, topic: topic.into() }
    }

    /// Publishes `readings`; resolves to how many were accepted (all of them, or an error).
    /// Under the default blocking policy this waits while the pipeline is full.
    pub async fn publish(&self, readings: Vec<SensorReading>) -> Result<u64, IngestError> {
        let n = readings.len() as u64;
        if n == 0 {
            return Ok(0);
        }
        self.ledger.published(n);
        match self.pubsub.publish(&self.topic, readings).await {
            Ok(report) if report.subscribers == 0 => {
                self.ledger.dropped(DropReason::NoSubscriber, n);
                Ok(n)
            }
            // Losses of a dropping subscription are counted through its `lost` counter.
            Ok(_) => Ok(n),
            // `broadcast` fails only when closed: the topic was validated when the pipeline
            // subscribed to it, and `Full` comes from `try_broadcast` only.
            Err(PubSubError::Closed | PubSubError::InvalidTopic(_) | PubSubError::Full { .. }) => {
                self.ledger.unpublished(n);
                Err(IngestError::ShuttingDown)
            }
        }
    }
}
