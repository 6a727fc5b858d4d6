//! Reusable view pieces of the live page, one role per file.

mod access;
mod chart;
mod connection;
pub mod controls;
mod counters;
mod dead_letters;
mod feed;
mod kinds;
mod live_charts;
mod stages;
mod stats;

pub use access::{AccessNotice, page_access};
pub use chart::{LineChart, LineDef, polyline, short};
pub use connection::ConnectionBadge;
pub use counters::Counters;
pub use dead_letters::DeadLetterPanel;
pub use feed::MessageFeed;
pub use kinds::{FailureReasons, KindTable};
pub use live_charts::LiveCharts;
pub use stages::StageList;
pub use stats::Stats;
