//! The current stats and live frame, as JSON.

use crate::error::AppError;
use crate::model::{LiveFrame, StatsSnapshot};
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// The ledger and rates as they are now; the page renders them before the stream connects.
#[server(prefix = "/rpc", endpoint = "get_stats", output = Postcard)]
pub async fn get_stats() -> Result<StatsSnapshot, AppError> {
    super::answer(async move { Ok(super::backend()?.stats()) }.await)
}

/// A full live frame as of now (stats, five minutes of history, the latest feed items, the
/// newest dead letters) as JSON: the frame the live page is first rendered with and `/ws`
/// streams in postcard, for readers that want JSON.
#[server(prefix = "/rpc", endpoint = "get_live", output = Postcard)]
pub async fn get_live() -> Result<LiveFrame, AppError> {
    super::answer(async move { Ok(super::backend()?.live()) }.await)
}
