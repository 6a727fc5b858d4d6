//! Wire types shared by the server and the browser: what is published, and what the live
//! stream carries. Both sides compile this module, so a field renamed here is renamed everywhere.

mod access;
pub mod catalogue;
mod cluster;
mod dashboard;
mod dead_letter;
mod demo;
mod live;
mod pipeline;
mod pubsub;
mod reading;
mod stats;
pub mod wire;

pub use access::{Access, UNLOCK_PATH};
pub use cluster::{ClusterEvent, ClusterInfo, ClusterNode, NodeCounts, cluster_events};
pub use dashboard::{
    DashboardInputError, DashboardUpdate, HISTORY_ROWS, LOG_BATCH, LOG_LINES, LogLevel, LogLine,
    REFRESH_CHOICES, Row, SystemInfo, parse_refresh,
};
pub use dead_letter::{DeadLetterEntry, DeadLetterPage, DeadLetterRow, DeadLetterStats, FailureRecord};
pub use demo::{SIMULATOR_MAX_RATE, SIMULATOR_MIN_RATE, SimulatorState};
pub use live::{
    DEAD_LETTERS_SHOWN, FEED_ITEMS, FEED_PER_FRAME, FeedItem, FeedStatus, LIVE_HISTORY_POINTS, LiveFrame,
    LiveModel, LivePoint,
};
pub use pipeline::{
    BatcherNode, Percentiles, PipelineControls, PipelineStats, ProcessorsNode, RateLimitSetting,
    RetrySetting, StageKey, StageRole, StageStats, Topology,
};
pub use pubsub::{OverflowPolicy, PubSubStats, SubscriberStats, TopicStats};
pub use reading::{Kind, ReadingError, SensorReading};
pub use stats::{KindAggregate, ReasonCount, StatsSnapshot};
