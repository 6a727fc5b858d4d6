//! The supervisor: runs each stage as its own task and restarts it when the task dies (a panic
//! outside the handlers' isolation, or a kill), counting the restart. A stage's state outlives
//! its task, so the new task resumes the old one's work; messages the dead task held are
//! failed by their drop guards, never lost.
//!
//! A stage that keeps panicking is restarted after a pause (`RESTART_BACKOFF` once it has
//! panicked `MAX_QUICK_RESTARTS` times within `RESTART_WINDOW`), so a crash loop cannot spin a
//! core. A killed stage (`Pipeline::kill`, a deliberate abort) always comes back at once.

use super::handler::panic_reason;
use super::telemetry::{Event, StageId, Telemetry};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(crate) const MAX_QUICK_RESTARTS: usize = 3;
pub(crate) const RESTART_WINDOW: Duration = Duration::from_secs(1);
pub(crate) const RESTART_BACKOFF: Duration = Duration::from_millis(100);

/// A supervised stage as the pipeline handle sees it: how to kill its current task, and how
/// often it was restarted.
#[derive(Default)]
pub(crate) struct StageSlot {
    current: std::sync::Mutex<Option<AbortHandle>>,
    pub restarts: AtomicU64,
}

impl StageSlot {
    fn set(&self, task: &tokio::task::JoinHandle<()>) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
    }

    /// Whether a task runs for this stage now.
    pub(crate) fn is_running(&self) -> bool {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Aborts the stage's current task (the supervisor restarts it). False if none runs.
    pub(crate) fn kill(&self) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match current.as_ref() {
            Some(h) if !h.is_finished() => {
                h.abort();
                true
            }
            _ => false,
        }
    }
}

/// Starts `stage` under supervision on `tracker`. `start` builds a fresh task body each time;
/// a body that returns ends the stage for good. Once `halt` is cancelled, a dead task is not
/// restarted (the pipeline is being torn down).
pub(crate) fn supervise<F, Fut>(
    tracker: &TaskTracker,
    stage: StageId,
    slot: Arc<StageSlot>,
    telemetry: Telemetry,
    halt: CancellationToken,
    start: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    // The first task starts now, so the stage can be killed as soon as `start` returns.
    let mut task = tokio::spawn(start());
    slot.set(&task);
    tracker.spawn(async move {
        let mut recent: VecDeque<Instant> = VecDeque::new();
        loop {
            let (reason, panicked) = match (&mut task).await {
                Ok(()) => return,
                Err(_) if halt.is_cancelled() => return,
                Err(e) if e.is_panic() => {
                    (format!("panicked: {}", panic_reason(e.into_panic().as_ref())), true)
                }
                Err(_) => ("killed".to_owned(), false),
            };
            let restarts = slot.restarts.fetch_add(1, Ordering::AcqRel) + 1;
            tracing::warn!(%stage, restarts, "stage task {reason}; restarting it");
            telemetry.emit(&Event::StageRestarted { stage, reason: &reason, restarts });
            // Only crashes back off: a kill is deliberate, and its stage comes back at once.
            let now = Instant::now();
            recent.retain(|t| now.duration_since(*t) < RESTART_WINDOW);
            if panicked {
                recent.push_back(now);
            }
            if recent.len() > MAX_QUICK_RESTARTS {
                tokio::select! {
                    () = tokio::time::sleep(RESTART_BACKOFF) => {}
                    () = halt.cancelled() => return,
                }
            }
            task = tokio::spawn(start());
            slot.set(&task);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::metrics::Metrics;
    use crate::pipeline::{ProcessorsNode, Topology};
    use std::sync::atomic::AtomicUsize;

    fn telemetry() -> Telemetry {
        let topology = Topology {
            producer: "test".into(),
            processors: ProcessorsNode { concurrency: 1, max_demand: 10, ..Default::default() },
            batchers: Vec::new(),
        };
        Telemetry { metrics: Arc::new(Metrics::new(topology, None, Vec::new())), observers: Arc::new([]) }
    }

    #[tokio::test(start_paused = true)]
    async fn a_crash_loop_is_restarted_after_a_pause() {
        let runs = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(StageSlot::default());
        let (tracker, halt) = (TaskTracker::new(), CancellationToken::new());
        let started = Instant::now();
        let starts = Arc::new(std::sync::Mutex::new(Vec::new()));
        supervise(&tracker, StageId::Processor(0), slot.clone(), telemetry(), halt.clone(), {
            let (runs, starts) = (runs.clone(), starts.clone());
            move || {
                let (runs, starts) = (runs.clone(), starts.clone());
                async move {
                    starts.lock().expect("lock").push(Instant::now());
                    if runs.fetch_add(1, Ordering::SeqCst) < 6 {
                        panic!("boom");
                    }
                }
            }
        });
        tracker.close();
        tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await.expect("ends once a run returns");
        assert_eq!(slot.restarts.load(Ordering::SeqCst), 6);
        let starts = starts.lock().expect("lock").clone();
        let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        // The first MAX_QUICK_RESTARTS restarts are immediate; later ones wait RESTART_BACKOFF.
        assert!(gaps[..MAX_QUICK_RESTARTS].iter().all(|g| *g < Duration::from_millis(1)), "{gaps:?}");
        assert!(gaps[MAX_QUICK_RESTARTS..].iter().all(|g| *g >= RESTART_BACKOFF), "{gaps:?}");
        assert!(started.elapsed() >= RESTART_BACKOFF * 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_halted_stage_is_not_restarted() {
        let slot = Arc::new(StageSlot::default());
        let (tracker, halt) = (TaskTracker::new(), CancellationToken::new());
        supervise(&tracker, StageId::Processor(0), slot.clone(), telemetry(), halt.clone(), || {
            std::future::pending::<()>()
        });
        tracker.close();
        halt.cancel();
        assert!(slot.kill(), "its task was running");
        tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await.expect("supervisor ends");
        assert_eq!(slot.restarts.load(Ordering::SeqCst), 0);
    }
}
