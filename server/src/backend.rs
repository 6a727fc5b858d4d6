//! The server's side of `app::api::Backend`: what server functions can do.

use crate::demo;
use crate::ingest::IngestError;
use crate::state::AppState;
use app::api::{Backend, BoxFuture};
use app::error::AppError;
use app::model::StatsSnapshot;

impl Backend for AppState {
    fn publish_sample(&self, count: u32) -> BoxFuture<'_, Result<u64, AppError>> {
        Box::pin(async move {
            let readings = demo::generate(count as usize, &mut fastrand::Rng::new());
            self.ingest.publish(readings).await.map_err(|e| match e {
                IngestError::ShuttingDown => AppError::Unavailable(e.to_string()),
            })
        })
    }

    fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }
}
