//! Demo scenarios that show fault tolerance: crash a processor (a panic inside a handler) and
//! kill a stage (its task dies; the supervisor restarts it).

use super::JsonScalar;
use crate::error::AppError;
use leptos::prelude::*;

/// Longest stage name accepted (names look like `"batch processor default.0"`).
pub const STAGE_NAME_MAX: usize = 64;

/// Publishes one reading whose handling panics inside `handle_message`. The panic is caught:
/// that message is retried, then fails with the panic's message as its reason, and the
/// processor goes on with the next one.
#[server(prefix = "/rpc", endpoint = "crash_processor", output = JsonScalar)]
pub async fn crash_processor() -> Result<(), AppError> {
    super::backend()?.crash_processor().await
}

/// Kills the running stage named `stage` as the statistics show it (`"processor 0"`,
/// `"batcher default"`, `"batch processor default.1"`): its task dies, the supervisor restarts
/// it (its restart counter goes up by one) and the new task resumes the dead one's work, so no
/// message is lost.
#[server(prefix = "/rpc", endpoint = "kill_stage", output = JsonScalar)]
pub async fn kill_stage(stage: String) -> Result<(), AppError> {
    check_stage_name(&stage)?;
    super::backend()?.kill_stage(&stage)
}

/// A stage name must be present and short.
pub fn check_stage_name(stage: &str) -> Result<(), AppError> {
    if stage.trim().is_empty() {
        return Err(AppError::InvalidArgument("stage: choose a stage to kill".into()));
    }
    if stage.len() > STAGE_NAME_MAX {
        return Err(AppError::InvalidArgument(format!("stage: longer than {STAGE_NAME_MAX} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_are_checked() {
        assert!(check_stage_name("processor 0").is_ok());
        assert!(check_stage_name("  ").expect_err("empty").to_string().contains("choose"));
        assert!(check_stage_name(&"x".repeat(65)).expect_err("long").to_string().contains("longer"));
    }
}
