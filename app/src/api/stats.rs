//! The current stats and live frame, for the server-rendered first paint.

use super::JsonText;
use crate::error::AppError;
use crate::model::{LiveFrame, StatsSnapshot};
use leptos::prelude::*;

/// The ledger and rates as they are now; the page renders them before the stream connects.
#[server(prefix = "/rpc", endpoint = "get_stats", output = JsonText)]
pub async fn get_stats() -> Result<StatsSnapshot, AppError> {
    Ok(super::backend()?.stats())
}

/// A full live frame as of now (stats, five minutes of history, the latest feed items): the
/// live page's server-rendered first paint, the same shape the WebSocket then streams.
#[server(prefix = "/rpc", endpoint = "get_live", output = JsonText)]
pub async fn get_live() -> Result<LiveFrame, AppError> {
    Ok(super::backend()?.live())
}
