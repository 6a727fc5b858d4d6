//! The current stats and live frame, as JSON.

use super::JsonText;
use crate::error::AppError;
use crate::model::{LiveFrame, StatsSnapshot};
use leptos::prelude::*;

/// The ledger and rates as they are now; the page renders them before the stream connects.
#[server(prefix = "/rpc", endpoint = "get_stats", output = JsonText)]
pub async fn get_stats() -> Result<StatsSnapshot, AppError> {
    Ok(super::backend()?.stats())
}

/// A full live frame as of now (stats, five minutes of history, the latest feed items, the
/// newest dead letters) as JSON: the frame the live page is first rendered with and `/ws`
/// streams in postcard, for readers that want JSON.
#[server(prefix = "/rpc", endpoint = "get_live", output = JsonText)]
pub async fn get_live() -> Result<LiveFrame, AppError> {
    Ok(super::backend()?.live())
}
