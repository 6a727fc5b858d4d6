//! The producer stage: meets processors' demand from the [`Producer`], never handing out more
//! than was asked. Outstanding demand is served in turn (a processor whose demand is met only
//! in part goes to the back of the line), so processors share the source fairly.
//!
//! Everything that must outlive a killed task (the producer, unmet demand, the channels) lives
//! in [`ProducerState`], which the stage task locks for its lifetime; a restarted task picks
//! it up where the dead one left it.

use super::ack::{Acker, InFlight};
use super::producer::Producer;
use super::telemetry::{Event, StageId};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

/// A processor asking for `n` more messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Demand {
    pub processor: usize,
    pub n: usize,
}

/// What survives a restart of the stage.
pub(crate) struct ProducerState<P: Producer> {
    pub producer: P,
    pub demands: mpsc::UnboundedReceiver<Demand>,
    pub unmet: VecDeque<Demand>,
    /// One sender per processor; cleared when the producer has finished, which tells the
    /// processors there is nothing more.
    pub to_processors: Vec<mpsc::UnboundedSender<InFlight<P::Data>>>,
    pub drained: bool,
}

/// Runs (or resumes) the stage until the producer has nothing more to give.
pub(crate) async fn run<P: Producer>(
    state: Arc<Mutex<ProducerState<P>>>,
    acker: Arc<Acker<P::Data>>,
    drain: CancellationToken,
) {
    let mut guard = state.lock_owned().await;
    let s = &mut *guard;
    loop {
        if !s.drained && drain.is_cancelled() {
            s.producer.drain();
            s.drained = true;
        }
        while let Ok(d) = s.demands.try_recv() {
            s.unmet.push_back(d);
        }
        let Some(&Demand { processor, n }) = s.unmet.front() else {
            tokio::select! {
                d = s.demands.recv() => match d {
                    Some(d) => s.unmet.push_back(d),
                    None => break, // every processor is gone for good
                },
                () = drain.cancelled(), if !s.drained => {}
            }
            continue;
        };
        let produced = tokio::select! {
            biased;
            () = drain.cancelled(), if !s.drained => continue,
            produced = s.producer.produce(n) => produced,
        };
        let Some(messages) = produced else { break };
        let k = messages.len();
        if k >= n {
            s.unmet.pop_front();
        } else if let Some(mut d) = s.unmet.pop_front() {
            d.n -= k;
            s.unmet.push_back(d);
        }
        acker.telemetry().emit(&Event::ProducerDispatched { processor, messages: k });
        let chunk = InFlight::new(messages, acker.clone(), StageId::Producer);
        // A send fails only if the processor is gone for good: the guard then fails the chunk.
        if let Some(to) = s.to_processors.get(processor) {
            let _ = to.send(chunk);
        }
    }
    s.to_processors.clear();
}
