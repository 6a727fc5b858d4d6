//! Pipeline controls: processor concurrency, pause / resume and the rate limit, changed while
//! the pipeline runs. Arguments are checked here first, so a bad value comes back as a
//! readable [`AppError::InvalidArgument`] before anything is touched.

use crate::error::AppError;
use crate::model::{PipelineControls, RateLimitSetting};
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// Longest rate-limit interval accepted: an hour.
pub const MAX_RATE_INTERVAL_MS: u64 = 3_600_000;

/// The controls as they are set now.
#[server(prefix = "/rpc", endpoint = "get_controls", output = Postcard)]
pub async fn get_controls() -> Result<PipelineControls, AppError> {
    super::answer(async move { Ok(super::backend()?.controls()) }.await)
}

/// Runs `concurrency` processors from now on (1..=the pipeline's maximum); returns the previous
/// concurrency. Nothing restarts, nothing in flight is lost or handled twice.
#[server(prefix = "/rpc", endpoint = "set_concurrency", output = Postcard)]
pub async fn set_concurrency(concurrency: u32) -> Result<u32, AppError> {
    super::answer(
        async move {
            let backend = super::backend()?;
            let max = backend.controls().max_concurrency;
            if concurrency == 0 || concurrency > max {
                return Err(AppError::InvalidArgument(format!(
                    "concurrency must be between 1 and {max}, got {concurrency}"
                )));
            }
            backend.set_concurrency(concurrency)
        }
        .await,
    )
}

/// Pauses (`true`) or resumes (`false`) intake: while paused nothing is processed, and what is
/// published waits in the pipeline's buffer (a full buffer refuses more with 503 / counts the
/// simulated publisher's excess as dropped).
#[server(prefix = "/rpc", endpoint = "set_paused", output = Postcard)]
pub async fn set_paused(paused: bool) -> Result<(), AppError> {
    super::answer(async move { super::backend()?.set_paused(paused) }.await)
}

/// Limits intake to `allowed_messages` per `interval_ms`; both absent lifts the limit.
#[server(prefix = "/rpc", endpoint = "set_rate_limit", output = Postcard)]
pub async fn set_rate_limit(allowed_messages: Option<u64>, interval_ms: Option<u64>) -> Result<(), AppError> {
    super::answer(
        async move {
            let limit = check_rate_limit(allowed_messages, interval_ms)?;
            super::backend()?.set_rate_limit(limit)
        }
        .await,
    )
}

/// Turns the two optional arguments into a limit, or explains what is wrong with them.
pub fn check_rate_limit(
    allowed_messages: Option<u64>,
    interval_ms: Option<u64>,
) -> Result<Option<RateLimitSetting>, AppError> {
    match (allowed_messages, interval_ms) {
        (None, None) => Ok(None),
        (Some(allowed_messages), Some(interval_ms)) => {
            if allowed_messages == 0 {
                return Err(AppError::InvalidArgument(
                    "allowed_messages must be at least 1 (pause the pipeline to stop intake)".into(),
                ));
            }
            if interval_ms == 0 || interval_ms > MAX_RATE_INTERVAL_MS {
                return Err(AppError::InvalidArgument(format!(
                    "interval_ms must be between 1 and {MAX_RATE_INTERVAL_MS}, got {interval_ms}"
                )));
            }
            Ok(Some(RateLimitSetting { allowed_messages, interval_ms }))
        }
        _ => Err(AppError::InvalidArgument(
            "give both allowed_messages and interval_ms, or neither to lift the limit".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_arguments_are_checked() {
        assert_eq!(check_rate_limit(None, None), Ok(None));
        assert_eq!(
            check_rate_limit(Some(100), Some(1000)),
            Ok(Some(RateLimitSetting { allowed_messages: 100, interval_ms: 1000 }))
        );
        for (a, i, says) in [
            (Some(0), Some(1000), "allowed_messages"),
            (Some(1), Some(0), "interval_ms"),
            (Some(1), Some(MAX_RATE_INTERVAL_MS + 1), "interval_ms"),
            (Some(1), None, "both"),
            (None, Some(5), "both"),
        ] {
            let e = check_rate_limit(a, i).expect_err("refused");
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
