//! Demo scenarios that show fault tolerance: crash a processor (a panic inside a handler) and
//! kill a stage (its task dies; the supervisor restarts it).

use crate::error::AppError;
use crate::model::{StageKey, StageRole};
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// Longest batcher name accepted in a stage key.
pub const STAGE_NAME_MAX: usize = 64;

/// Publishes one reading whose handling panics inside `handle_message`. The panic is caught:
/// that message is retried, then fails with the panic's message as its reason, and the
/// processor goes on with the next one.
#[server(prefix = "/rpc", endpoint = "crash_processor", output = Postcard)]
pub async fn crash_processor() -> Result<(), AppError> {
    super::answer(async move { super::backend()?.crash_processor().await }.await)
}

/// Kills the running stage `stage` (as the statistics key it: `stage[role]=processor&
/// stage[index]=0`, `stage[role]=batcher&stage[batcher]=default`): its task dies, the
/// supervisor restarts it (its restart counter goes up by one) and the new task resumes the
/// dead one's work, so no message is lost.
#[server(prefix = "/rpc", endpoint = "kill_stage", output = Postcard)]
pub async fn kill_stage(stage: StageKey) -> Result<(), AppError> {
    super::answer(
        async move {
            check_stage(&stage)?;
            super::backend()?.kill_stage(&stage)
        }
        .await,
    )
}

/// A stage key must name a stage that can be killed: the producer runs inside the processors,
/// batchers are named by a short name.
pub fn check_stage(stage: &StageKey) -> Result<(), AppError> {
    let named = stage.batcher.as_deref().map(str::trim).filter(|b| !b.is_empty());
    match stage.role {
        StageRole::Producer => {
            Err(AppError::InvalidArgument("the producer runs inside the processors: kill a processor".into()))
        }
        StageRole::Batcher | StageRole::BatchProcessor if named.is_none() => {
            Err(AppError::InvalidArgument("stage: name the batcher".into()))
        }
        _ if stage.batcher.as_ref().is_some_and(|b| b.len() > STAGE_NAME_MAX) => Err(
            AppError::InvalidArgument(format!("stage: batcher name longer than {STAGE_NAME_MAX} characters")),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_keys_are_checked() {
        let key = |role, batcher: Option<&str>| StageKey { role, index: 0, batcher: batcher.map(Into::into) };
        assert!(check_stage(&key(StageRole::Processor, None)).is_ok());
        assert!(check_stage(&key(StageRole::Batcher, Some("default"))).is_ok());
        assert!(
            check_stage(&key(StageRole::Producer, None))
                .expect_err("producer")
                .to_string()
                .contains("processor")
        );
        assert!(
            check_stage(&key(StageRole::BatchProcessor, Some(" ")))
                .expect_err("unnamed")
                .to_string()
                .contains("name")
        );
        let long = "x".repeat(65);
        assert!(
            check_stage(&key(StageRole::Batcher, Some(&long)))
                .expect_err("long")
                .to_string()
                .contains("longer")
        );
    }
}
