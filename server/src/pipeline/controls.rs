//! Run-time controls of a running pipeline: processor concurrency up or down, pause / resume,
//! the rate limit, and a view of the retry policy. The [`Pipeline`](super::Pipeline) handle
//! reaches them through the object-safe [`Controls`], so the handle stays non-generic.
//!
//! Changing the concurrency never restarts the pipeline and never loses or repeats a message:
//! - **up**: processor slots exist from the start (up to `max_concurrency`, their counters and
//!   state included); a new processor is one more supervised task on a free slot, counted by
//!   the batchers before it starts, so a drain waits for it.
//! - **down**: the highest processors are asked to retire. A retiring processor stops pulling,
//!   finishes what it holds, hands its full batches on, then leaves; its slot keeps its state
//!   for a later raise. A retirement can be called off (the concurrency went up again before it
//!   left): the flag and the slot's `running` mark change under one lock, so the two cannot
//!   cross.

use super::batcher::Batcher;
use super::config::PipelineError;
use super::producer::Producer;
use super::producer_stage::ProducerStage;
use super::rate_limit::RateLimit;
use super::retry::RetryPolicy;
use super::stats::ControlState;
use super::telemetry::{Event, Telemetry};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};

/// What the handle can change while the pipeline runs.
pub(crate) trait Controls: Send + Sync {
    fn concurrency(&self) -> usize;
    fn set_concurrency(&self, to: usize) -> Result<usize, PipelineError>;
    fn set_paused(&self, paused: bool) -> Result<(), PipelineError>;
    fn is_paused(&self) -> bool;
    fn rate_limit(&self) -> Option<RateLimit>;
    fn update_rate_limit(&self, limit: Option<RateLimit>) -> Result<(), PipelineError>;
    fn retry_policy(&self) -> Option<RetryPolicy>;
    /// Messages waiting for a retry now.
    fn retry_pending(&self) -> usize;
    /// The whole state, for the stats snapshot.
    fn view(&self) -> ControlState;
}

/// Starts processor `index` under supervision, on the pipeline's runtime.
pub(crate) type StartProcessor = Box<dyn Fn(usize) + Send + Sync>;

pub(crate) struct Controller<P: Producer> {
    pub producer: Arc<ProducerStage<P>>,
    pub batchers: Vec<Arc<Batcher<P::Data>>>,
    pub start_processor: StartProcessor,
    pub telemetry: Telemetry,
    pub desired: AtomicUsize,
    pub max: usize,
    pub partitioned: bool,
}

impl<P: Producer> Controller<P> {
    /// Starts the first `concurrency` processors.
    pub(crate) fn start(&self, concurrency: usize) {
        let mut running = self.producer.roster.running.lock().unwrap_or_else(PoisonError::into_inner);
        for (index, slot) in running.iter_mut().enumerate().take(concurrency) {
            *slot = true;
            (self.start_processor)(index);
        }
    }
}

impl<P: Producer> Controls for Controller<P> {
    fn concurrency(&self) -> usize {
        self.desired.load(Ordering::Acquire)
    }

    fn set_concurrency(&self, to: usize) -> Result<usize, PipelineError> {
        if to == 0 || to > self.max {
            return Err(PipelineError::InvalidControl(format!(
                "processor concurrency must be within 1..={} (asked for {to})",
                self.max
            )));
        }
        let roster = &self.producer.roster;
        let mut running = roster.running.lock().unwrap_or_else(PoisonError::into_inner);
        if self.producer.is_draining() {
            return Err(PipelineError::Draining);
        }
        let from = self.desired.swap(to, Ordering::AcqRel);
        for (index, is_running) in running.iter_mut().enumerate() {
            if index < to {
                roster.retire[index].store(false, Ordering::Release); // calls off a retirement
                if !*is_running {
                    *is_running = true;
                    for b in &self.batchers {
                        b.processor_started();
                    }
                    (self.start_processor)(index);
                }
            } else if *is_running && !roster.retire[index].swap(true, Ordering::AcqRel) {
                self.producer.wake(index);
            }
        }
        drop(running);
        if self.partitioned
            && let Some(p) = self.producer.source().partitions.as_mut()
        {
            p.remap(to);
        }
        self.producer.wake_all();
        if from != to {
            self.telemetry.emit(&Event::ConcurrencyChanged { from, to });
        }
        Ok(from)
    }

    fn set_paused(&self, paused: bool) -> Result<(), PipelineError> {
        if self.producer.is_draining() {
            return Err(PipelineError::Draining);
        }
        if self.producer.is_paused() != paused {
            self.producer.set_paused(paused);
            self.telemetry.emit(&Event::PauseChanged { paused });
        }
        Ok(())
    }

    fn is_paused(&self) -> bool {
        self.producer.is_paused()
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        self.producer.source().limiter.limit()
    }

    fn update_rate_limit(&self, limit: Option<RateLimit>) -> Result<(), PipelineError> {
        if let Some(l) = &limit {
            l.validate().map_err(PipelineError::InvalidControl)?;
        }
        self.producer.source().limiter.update(limit);
        self.producer.wake_all(); // sleepers waiting for the next window re-read it
        self.telemetry.emit(&Event::RateLimitChanged { limit });
        Ok(())
    }

    fn retry_policy(&self) -> Option<RetryPolicy> {
        self.producer.source().retries.as_ref().map(|r| *r.policy())
    }

    fn retry_pending(&self) -> usize {
        self.producer.source().retries.as_ref().map_or(0, |r| r.len())
    }

    fn view(&self) -> ControlState {
        let (rate_limit, retry) = {
            let s = self.producer.source();
            (s.limiter.limit(), s.retries.as_ref().map(|r| *r.policy()))
        };
        ControlState {
            paused: self.is_paused(),
            concurrency: self.concurrency() as u32,
            max_concurrency: self.max as u32,
            rate_limit,
            retry,
        }
    }
}
