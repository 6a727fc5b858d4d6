//! Publish buttons: generate readings on the server and publish them on the `events` topic.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// Largest burst one call may publish; bigger bursts belong to the HTTP ingest API.
pub const PUBLISH_MAX: u32 = 10_000;

/// Publishes `count` generated sensor readings (1..=10,000) and returns how many were accepted.
#[server(prefix = "/rpc", endpoint = "publish_sample", output = Postcard)]
pub async fn publish_sample(count: u32) -> Result<u64, AppError> {
    super::answer(
        async move {
            if count == 0 || count > PUBLISH_MAX {
                return Err(AppError::InvalidArgument(format!(
                    "count must be between 1 and {PUBLISH_MAX}, got {count}"
                )));
            }
            super::backend()?.publish_sample(count).await
        }
        .await,
    )
}
