//! The pub/sub surface from the page: broadcast on any topic (also `broadcast_from` and
//! `local_broadcast`), and taps: subscribers to a topic or wildcard pattern with a chosen
//! buffer, overflow policy and reading pace, whose losses show in the stats.

use crate::error::AppError;
use crate::model::OverflowPolicy;
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// Largest broadcast from the page.
pub const BROADCAST_MAX: u32 = 10_000;

/// Publishes `count` generated readings on `topic`. With `from`, subscriber `from` does not
/// receive them (`broadcast_from`); with `local`, only this node's subscribers do
/// (`local_broadcast`). On the pipeline's topic they enter the pipeline (and its ledger).
#[server(prefix = "/rpc", endpoint = "broadcast", output = Postcard)]
pub async fn broadcast(topic: String, count: u32, from: Option<u64>, local: bool) -> Result<u64, AppError> {
    super::answer(
        async move {
            if count == 0 || count > BROADCAST_MAX {
                return Err(AppError::InvalidArgument(format!(
                    "count must be between 1 and {BROADCAST_MAX}, got {count}"
                )));
            }
            super::backend()?.broadcast(topic, count, from, local).await
        }
        .await,
    )
}

/// Subscribes a tap to `pattern` (a topic, or `sensors.*` / `sensors.>`) with a buffer of
/// `capacity` messages under `overflow`, reading `read_per_s` a second (0: never); returns its
/// subscriber id.
#[server(prefix = "/rpc", endpoint = "add_tap", output = Postcard)]
pub async fn add_tap(
    pattern: String,
    capacity: u32,
    overflow: OverflowPolicy,
    read_per_s: u32,
) -> Result<u64, AppError> {
    super::answer(async move { super::backend()?.add_tap(pattern, capacity, overflow, read_per_s) }.await)
}

/// Unsubscribes tap `id`; false if there was none.
#[server(prefix = "/rpc", endpoint = "remove_tap", output = Postcard)]
pub async fn remove_tap(id: u64) -> Result<bool, AppError> {
    super::answer(async move { Ok(super::backend()?.remove_tap(id)) }.await)
}
