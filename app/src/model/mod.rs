//! Wire types shared by the server and the browser: what is published, and what the live
//! stream carries. Both sides compile this module, so a field renamed here is renamed everywhere.

mod dead_letter;
mod pipeline;
mod pubsub;
mod reading;
mod stats;

pub use dead_letter::{DeadLetterEntry, DeadLetterPage, FailureRecord};
pub use pipeline::{
    BatcherNode, Percentiles, PipelineStats, ProcessorsNode, StageRole, StageStats, Topology,
};
pub use pubsub::{OverflowPolicy, PubSubStats, SubscriberStats, TopicStats};
pub use reading::{Kind, ReadingError, SensorReading};
pub use stats::{KindAggregate, ReasonCount, StatsSnapshot};
