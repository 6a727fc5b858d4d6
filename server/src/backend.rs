//! The server's side of `app::api::Backend`: what server functions can do.

use crate::demo::{self, SimulatorError};
use crate::ingest::IngestError;
use crate::pipeline::{PipelineError, RateLimit};
use crate::state::AppState;
use app::api::{Backend, BoxFuture};
use app::error::AppError;
use app::model::{PipelineControls, RateLimitSetting, StatsSnapshot};
use std::time::Duration;

impl Backend for AppState {
    fn publish_sample(&self, count: u32) -> BoxFuture<'_, Result<u64, AppError>> {
        Box::pin(async move {
            let readings = demo::generate(count as usize, &mut fastrand::Rng::new());
            self.ingest.try_publish(readings).map_err(|e| match e {
                IngestError::ShuttingDown | IngestError::Full { .. } => AppError::Unavailable(e.to_string()),
            })
        })
    }

    fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    fn controls(&self) -> PipelineControls {
        self.stats.pipeline.stats().controls
    }

    fn set_concurrency(&self, concurrency: u32) -> Result<u32, AppError> {
        let previous = self.stats.pipeline.set_concurrency(concurrency as usize).map_err(control_error)?;
        tracing::info!(from = previous, to = concurrency, "processor concurrency changed");
        Ok(previous as u32)
    }

    fn set_paused(&self, paused: bool) -> Result<(), AppError> {
        let p = &self.stats.pipeline;
        if paused { p.pause() } else { p.resume() }.map_err(control_error)?;
        tracing::info!(paused, "pipeline intake {}", if paused { "paused" } else { "resumed" });
        Ok(())
    }

    fn set_rate_limit(&self, limit: Option<RateLimitSetting>) -> Result<(), AppError> {
        let limit = limit.map(|l| RateLimit {
            allowed_messages: l.allowed_messages,
            interval: Duration::from_millis(l.interval_ms),
        });
        self.stats.pipeline.update_rate_limit(limit).map_err(control_error)?;
        tracing::info!(?limit, "rate limit changed");
        Ok(())
    }

    fn start_simulator(&self, rate_per_s: u32, invalid_pct: u8) -> Result<(), AppError> {
        self.simulator.start(rate_per_s, invalid_pct).map_err(|e| match e {
            SimulatorError::ShuttingDown => AppError::Unavailable(e.to_string()),
            other => AppError::InvalidArgument(other.to_string()),
        })
    }

    fn stop_simulator(&self) {
        self.simulator.stop();
    }
}

/// A refused control: bad values are the caller's, a draining pipeline is unavailable.
fn control_error(e: PipelineError) -> AppError {
    match e {
        PipelineError::Draining => AppError::Unavailable(e.to_string()),
        other => AppError::InvalidArgument(other.to_string()),
    }
}
