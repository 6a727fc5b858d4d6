//! The dead-letter queue from the page: list it (newest first), replay some or all of it into
//! the pipeline, purge it.

use crate::error::AppError;
use crate::model::{DeadLetterPage, DeadLetterRow};
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// Most letters one page lists.
pub const DEAD_LETTER_PAGE_MAX: u32 = 500;
/// Most ids one replay call names.
pub const REPLAY_IDS_MAX: usize = 1_000;

/// Up to `limit` letters (1..=500), newest first, older than `before` (`None`: the newest).
#[server(prefix = "/rpc", endpoint = "list_dead_letters", output = Postcard)]
pub async fn list_dead_letters(before: Option<u64>, limit: u32) -> Result<DeadLetterPage, AppError> {
    super::answer(
        async move {
            if limit == 0 || limit > DEAD_LETTER_PAGE_MAX {
                return Err(AppError::InvalidArgument(format!(
                    "limit must be between 1 and {DEAD_LETTER_PAGE_MAX}, got {limit}"
                )));
            }
            super::backend()?.dead_letters(before, limit).await
        }
        .await,
    )
}

/// The newest `limit` letters (1..=500) as the live page lists them (plain text rows).
#[server(prefix = "/rpc", endpoint = "recent_dead_letters", output = Postcard)]
pub async fn recent_dead_letters(limit: u32) -> Result<Vec<DeadLetterRow>, AppError> {
    super::answer(
        async move {
            let page = list_dead_letters(None, limit).await?;
            Ok(page.entries.iter().map(DeadLetterRow::from).collect())
        }
        .await,
    )
}

/// Publishes letters again (all of them with `all`, else those in `ids`), removing each once
/// it is published; returns how many were replayed. A full pipeline stops the replay early
/// with an error saying how many went; the rest stay queued.
#[server(prefix = "/rpc", endpoint = "replay_dead_letters", output = Postcard)]
pub async fn replay_dead_letters(#[server(default)] ids: Vec<u64>, all: bool) -> Result<u64, AppError> {
    super::answer(
        async move {
            if !all && ids.is_empty() {
                return Err(AppError::InvalidArgument("name the letters to replay, or replay all".into()));
            }
            if ids.len() > REPLAY_IDS_MAX {
                return Err(AppError::InvalidArgument(format!(
                    "at most {REPLAY_IDS_MAX} ids per replay, got {}",
                    ids.len()
                )));
            }
            super::backend()?.replay_dead_letters(if all { None } else { Some(ids) }).await
        }
        .await,
    )
}

/// Removes every letter; returns how many there were.
#[server(prefix = "/rpc", endpoint = "purge_dead_letters", output = Postcard)]
pub async fn purge_dead_letters() -> Result<u64, AppError> {
    super::answer(async move { super::backend()?.purge_dead_letters().await }.await)
}
