//! The processor stage: keeps demand flowing to the producer (asks for more once what it
//! waits for falls to `min_demand`), runs `prepare_messages` and `handle_message` inside panic
//! isolation, acknowledges failures (after `handle_failed`) and forwards successes to their
//! batchers, or acknowledges them at once when the pipeline has no batcher.

use super::ack::{Acker, InFlight};
use super::handler::isolate;
use super::producer_stage::Demand;
use super::telemetry::{Event, LatencySample, StageId, latency_samples};
use super::{Handler, Message};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Mutex, mpsc};

/// What survives a restart of one processor.
pub(crate) struct ProcessorState<T: Send + 'static> {
    pub index: usize,
    pub chunks: mpsc::UnboundedReceiver<InFlight<T>>,
    pub demands: mpsc::UnboundedSender<Demand>,
    /// Asked for and not yet received.
    pub outstanding: usize,
    pub max_demand: usize,
    pub min_demand: usize,
    /// Batcher names, in config order, and a sender to each; cleared once the producer has
    /// finished, which lets the batchers flush and end.
    pub batchers: Vec<&'static str>,
    pub to_batchers: Vec<mpsc::Sender<InFlight<T>>>,
}

impl<T: Send + 'static> ProcessorState<T> {
    fn ask(&mut self) {
        if self.outstanding <= self.min_demand {
            let n = self.max_demand - self.outstanding;
            if self.demands.send(Demand { processor: self.index, n }).is_ok() {
                self.outstanding += n;
            }
        }
    }

    fn batcher_of(&self, name: &'static str) -> Option<usize> {
        // Names are usually the same `&'static str`: compare addresses before bytes.
        self.batchers.iter().position(|b| std::ptr::eq(*b, name) || *b == name)
    }
}

/// Runs (or resumes) one processor until the producer has nothing more for it.
pub(crate) async fn run<H: Handler>(
    state: Arc<Mutex<ProcessorState<H::Data>>>,
    handler: Arc<H>,
    acker: Arc<Acker<H::Data>>,
) {
    let mut guard = state.lock_owned().await;
    let s = &mut *guard;
    let me = StageId::Processor(s.index);
    let mut latency = Vec::new();
    s.ask();
    while let Some(mut chunk) = s.chunks.recv().await {
        chunk.holder = me;
        s.outstanding = s.outstanding.saturating_sub(chunk.messages.len());
        s.ask(); // the producer prepares the next chunk while this one is handled
        handle(s, &mut chunk, &*handler, &acker, &mut latency);
        forward(s, chunk, &acker).await;
    }
    s.to_batchers.clear();
}

/// Runs the handler over the chunk, in place, and acknowledges what failed.
fn handle<H: Handler>(
    s: &ProcessorState<H::Data>,
    chunk: &mut InFlight<H::Data>,
    handler: &H,
    acker: &Acker<H::Data>,
    latency: &mut Vec<LatencySample>,
) {
    let me = StageId::Processor(s.index);
    let telemetry = acker.telemetry();
    let started = Instant::now();
    let messages = &mut chunk.messages;
    telemetry.emit(&Event::ProcessorStarted { processor: s.index, messages: messages.len() });
    if let Err(reason) = isolate(|| handler.prepare_messages(messages)) {
        telemetry.emit(&Event::MessageCrashed { processor: s.index, reason: &reason });
        for m in messages.iter_mut() {
            m.fail("panic", format!("prepare_messages panicked: {reason}"));
        }
    }
    let mut failed = 0;
    for m in messages.iter_mut() {
        if m.is_ok() {
            if let Err(reason) = isolate(|| handler.handle_message(m)) {
                telemetry.emit(&Event::MessageCrashed { processor: s.index, reason: &reason });
                m.fail("panic", reason);
            } else if m.is_ok() && !s.batchers.is_empty() && s.batcher_of(m.batcher).is_none() {
                let reason = format!("no batcher named {:?} in this pipeline", m.batcher);
                m.fail("unknown batcher", reason);
            }
        }
        // Failed messages are acknowledged below, with the chunk's, after `handle_failed`.
        if m.ack_now && !m.acked && m.is_ok() {
            acker.ack(me, std::slice::from_mut(m), &mut []);
        }
        failed += usize::from(!m.is_ok());
    }
    let now = Instant::now();
    latency.clear();
    latency_samples(now, messages, latency);
    telemetry.emit(&Event::ProcessorStopped {
        processor: s.index,
        duration: now - started,
        successful: messages.len() - failed,
        failed,
        latency,
    });
    if failed > 0 {
        let mut bad: Vec<Message<H::Data>> = Vec::with_capacity(failed);
        let mut ok = Vec::with_capacity(messages.len() - failed);
        for m in chunk.take() {
            if m.is_ok() { ok.push(m) } else { bad.push(m) }
        }
        chunk.messages = ok;
        // A panic here is isolated too: the messages are acknowledged as failed regardless.
        let _ = isolate(|| handler.handle_failed(&mut bad));
        acker.ack(me, &mut [], &mut bad);
    }
}

/// Hands successful messages to their batchers (or acknowledges them when there is none).
async fn forward<T: Send + 'static>(s: &ProcessorState<T>, mut chunk: InFlight<T>, acker: &Arc<Acker<T>>) {
    let me = StageId::Processor(s.index);
    if chunk.messages.is_empty() {
        return;
    }
    if s.batchers.is_empty() {
        acker.ack(me, &mut chunk.messages, &mut []);
        chunk.messages.clear();
        return;
    }
    let first = chunk.messages[0].batcher;
    if chunk.messages.iter().all(|m| std::ptr::eq(m.batcher, first) || m.batcher == first) {
        send(s, s.batcher_of(first), chunk, acker).await;
        return;
    }
    let mut groups: Vec<Vec<Message<T>>> = (0..s.batchers.len()).map(|_| Vec::new()).collect();
    for m in chunk.take() {
        if let Some(b) = s.batcher_of(m.batcher) {
            groups[b].push(m);
        }
    }
    for (b, group) in groups.into_iter().enumerate() {
        if !group.is_empty() {
            send(s, Some(b), InFlight::new(group, acker.clone(), me), acker).await;
        }
    }
}

async fn send<T: Send + 'static>(
    s: &ProcessorState<T>,
    batcher: Option<usize>,
    chunk: InFlight<T>,
    acker: &Acker<T>,
) {
    let Some((b, to)) = batcher.and_then(|b| Some((b, s.to_batchers.get(b)?))) else {
        return; // dropping the chunk fails its messages: the batcher is gone for good
    };
    let n = chunk.messages.len();
    acker.telemetry().emit(&Event::MessagesForwarded { processor: s.index, batcher: b, messages: n });
    // Held in the send future while the batcher is full: a kill here fails them via the guard.
    let _ = to.send(chunk).await;
}
