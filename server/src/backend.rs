//! The server's side of `app::api::Backend`: what server functions can do.

use crate::bus::ControlError;
use crate::cluster;
use crate::demo::{self, SimulatorError, TapError};
use crate::dlq::{DlqError, ReplayError, Selection};
use crate::ingest::IngestError;
use crate::pipeline::{PipelineError, RateLimit};
use crate::pubsub::{PubSubError, SubscriberId};
use crate::readings::CRASH_SENSOR;
use crate::state::AppState;
use crate::telemetry::unix_ms;
use crate::wire;
use app::api::{Backend, BoxFuture};
use app::error::AppError;
use app::model::{
    DeadLetterPage, Kind, LiveFrame, OverflowPolicy, PipelineControls, RateLimitSetting, SensorReading,
    StageKey, StatsSnapshot,
};
use std::time::Duration;

impl Backend for AppState {
    fn control_all(&self, action: String, value: Option<u64>) -> BoxFuture<'_, Result<u64, AppError>> {
        Box::pin(async move {
            let max = self.pipeline.controls().max_concurrency;
            let command = cluster::parse(&action, value, max).map_err(AppError::InvalidArgument)?;
            let others = match &self.bus {
                Some(bus) => bus.control_all(command.clone()).await.map_err(|e| match e {
                    ControlError::Refused(why) => AppError::InvalidArgument(why),
                    other => AppError::Unavailable(other.to_string()),
                })?,
                None => {
                    cluster::apply(&self.pipeline, &command).map_err(AppError::InvalidArgument)?;
                    0
                }
            };
            tracing::info!(?command, others, "a control for every node");
            Ok(others)
        })
    }

    fn cluster(&self) -> BoxFuture<'_, Result<app::model::ClusterInfo, AppError>> {
        Box::pin(async move {
            cluster::view(self)
                .await
                .map(crate::wire::cluster)
                .map_err(|e| AppError::Unavailable(format!("the cluster cannot be read: {e}")))
        })
    }

    fn access(&self, headers: &axum::http::HeaderMap, query: Option<&str>) -> app::model::Access {
        self.operator.view(headers, crate::guard::unlock_refused(query))
    }

    fn publish_sample(&self, count: u32) -> BoxFuture<'_, Result<u64, AppError>> {
        Box::pin(async move {
            let readings = demo::generate(count as usize, &mut fastrand::Rng::new());
            // Waits for Redis' answer in redis mode: a refusal shows on the page.
            self.ingest.publish(readings).await.map_err(ingest_error)
        })
    }

    fn stats(&self) -> StatsSnapshot {
        self.snapshots.now()
    }

    fn live(&self) -> LiveFrame {
        self.reporter.frame()
    }

    fn crash_processor(&self) -> BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async move {
            let reading = SensorReading {
                sensor: CRASH_SENSOR.into(),
                kind: Kind::Temperature,
                value: 21.0,
                at: Some(unix_ms()),
            };
            self.ingest.publish(vec![reading]).await.map_err(ingest_error)?;
            tracing::info!("processor crash requested: a reading whose handler panics was published");
            Ok(())
        })
    }

    fn kill_stage(&self, stage: &StageKey) -> Result<(), AppError> {
        let label = stage.label();
        let not_running = || {
            AppError::InvalidArgument(format!(
                "no running stage {label:?} (processors, batchers and batch processors can be killed)"
            ))
        };
        let id = wire::stage_id(stage, &self.pipeline.topology()).ok_or_else(not_running)?;
        self.pipeline.kill(id).map_err(|e| match e {
            PipelineError::NoSuchStage(_) => not_running(),
            other => control_error(other),
        })?;
        tracing::warn!(stage = label, "stage killed on request: its supervisor restarts it");
        Ok(())
    }

    fn controls(&self) -> PipelineControls {
        wire::controls(self.pipeline.controls())
    }

    fn set_concurrency(&self, concurrency: u32) -> Result<u32, AppError> {
        let previous = self.pipeline.set_concurrency(concurrency as usize).map_err(control_error)?;
        tracing::info!(from = previous, to = concurrency, "processor concurrency changed");
        Ok(previous as u32)
    }

    fn set_paused(&self, paused: bool) -> Result<(), AppError> {
        let p = &self.pipeline;
        if paused { p.pause() } else { p.resume() }.map_err(control_error)?;
        tracing::info!(paused, "pipeline intake {}", if paused { "paused" } else { "resumed" });
        Ok(())
    }

    fn set_rate_limit(&self, limit: Option<RateLimitSetting>) -> Result<(), AppError> {
        let limit = limit.map(|l| RateLimit {
            allowed_messages: l.allowed_messages,
            interval: Duration::from_millis(l.interval_ms),
        });
        self.pipeline.update_rate_limit(limit).map_err(control_error)?;
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

    fn broadcast(
        &self,
        topic: String,
        count: u32,
        from: Option<u64>,
        local: bool,
    ) -> BoxFuture<'_, Result<u64, AppError>> {
        Box::pin(async move {
            let readings = demo::generate(count as usize, &mut fastrand::Rng::new());
            if topic == self.ingest.topic() {
                // The pipeline's topic: through ingest, so the ledger counts every message.
                if from.is_some() || local {
                    return Err(AppError::InvalidArgument(format!(
                        "the pipeline's topic {topic:?} takes plain broadcasts only"
                    )));
                }
                return self.ingest.publish(readings).await.map_err(ingest_error);
            }
            // Other topics are outside the pipeline's ledger; a blocking tap without room must
            // not hold the caller forever.
            let pubsub = &self.pubsub;
            let sent = async {
                match from {
                    Some(id) => pubsub.broadcast_from(SubscriberId::from(id), &topic, readings).await,
                    None if local => pubsub.local_broadcast(&topic, readings).await,
                    None => pubsub.broadcast(&topic, readings).await,
                }
            };
            match tokio::time::timeout(BROADCAST_WAIT, sent).await {
                Ok(Ok(report)) => Ok(u64::from(count) * report.subscribers as u64 - report.dropped),
                Ok(Err(e @ PubSubError::InvalidTopic(_))) => Err(AppError::InvalidArgument(e.to_string())),
                Ok(Err(e)) => Err(AppError::Unavailable(e.to_string())),
                Err(_) => Err(AppError::Unavailable(format!(
                    "a blocking subscriber of {topic:?} had no room for {BROADCAST_WAIT:?}"
                ))),
            }
        })
    }

    fn add_tap(
        &self,
        pattern: String,
        capacity: u32,
        overflow: OverflowPolicy,
        read_per_s: u32,
    ) -> Result<u64, AppError> {
        self.taps.add(&pattern, capacity, wire::overflow(overflow), read_per_s).map_err(|e| match e {
            TapError::ShuttingDown => AppError::Unavailable(e.to_string()),
            other => AppError::InvalidArgument(other.to_string()),
        })
    }

    fn remove_tap(&self, id: u64) -> bool {
        self.taps.remove(id)
    }

    fn dead_letters(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> BoxFuture<'_, Result<DeadLetterPage, AppError>> {
        Box::pin(async move {
            let page = self.dead_letters.list(before, limit as usize).await.map_err(store_error)?;
            Ok(wire::dead_letter_page(page))
        })
    }

    fn replay_dead_letters(&self, ids: Option<Vec<u64>>) -> BoxFuture<'_, Result<u64, AppError>> {
        Box::pin(async move {
            let selection = ids.map_or(Selection::All, Selection::Ids);
            match self.dead_letters.replay(selection, &self.ingest).await {
                Ok(n) => {
                    tracing::info!(replayed = n, "dead letters replayed");
                    Ok(n)
                }
                Err(ReplayError::Publish { replayed, error }) => Err(AppError::Unavailable(format!(
                    "replayed {replayed}, then stopped: {error}; the rest stay in the queue"
                ))),
                Err(ReplayError::Store(e)) => Err(store_error(e)),
            }
        })
    }

    fn purge_dead_letters(&self) -> BoxFuture<'_, Result<u64, AppError>> {
        Box::pin(async move {
            let n = self.dead_letters.purge().await.map_err(store_error)?;
            tracing::info!(purged = n, "dead-letter queue purged");
            Ok(n)
        })
    }
}

fn store_error(e: DlqError) -> AppError {
    AppError::Unavailable(format!("dead-letter store: {e}"))
}

/// Longest a page's broadcast waits for blocking subscribers.
const BROADCAST_WAIT: Duration = Duration::from_secs(1);

fn ingest_error(e: IngestError) -> AppError {
    AppError::Unavailable(e.to_string())
}

/// A refused control: bad values are the caller's, a draining pipeline is unavailable.
fn control_error(e: PipelineError) -> AppError {
    match e {
        PipelineError::Draining => AppError::Unavailable(e.to_string()),
        other => AppError::InvalidArgument(other.to_string()),
    }
}
