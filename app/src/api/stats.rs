//! The current stats, for the server-rendered first paint.

use super::JsonText;
use crate::error::AppError;
use crate::model::StatsSnapshot;
use leptos::prelude::*;

/// The ledger and rates as they are now; the page renders them before the stream connects.
#[server(prefix = "/rpc", endpoint = "get_stats", output = JsonText)]
pub async fn get_stats() -> Result<StatsSnapshot, AppError> {
    Ok(super::backend()?.stats())
}
