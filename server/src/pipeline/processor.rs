//! The processor stage: pulls messages from the producer (GenStage's demand: it holds at most
//! `max_demand`, handles them in chunks of at most `max_demand - min_demand`, and asks for more
//! once it holds `min_demand` or fewer), runs `prepare_messages` and `handle_message` inside
//! panic isolation, acknowledges failures (after `handle_failed`) and files successes into
//! their batchers, or acknowledges them at once when the pipeline has no batcher.
//!
//! The messages a processor holds stay in one guarded buffer in its state from pull to
//! filing: no allocation or reference count per chunk, and a kill fails them (counted) rather
//! than losing them.

use super::ack::{Acker, InFlight};
use super::batcher::{self, Batcher};
use super::handler::isolate;
use super::producer::Producer;
use super::producer_stage::{ProducerStage, Pulled};
use super::telemetry::{Event, LatencySample, StageId, latency_samples};
use super::{Handler, Message};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Mutex;

/// What survives a restart of one processor.
pub(crate) struct ProcessorState<T: Send + 'static> {
    /// Messages pulled and not handled yet.
    pub held: InFlight<T>,
    pub max_demand: usize,
    pub min_demand: usize,
    pub route: Route<T>,
    /// Full batches not yet handed to their batch processors (by batcher): kept here so a
    /// killed task's successor sends them.
    pub outbox: Vec<(usize, batcher::Ready<T>)>,
    /// Held messages beyond the chunk being handled (`min_demand` > 0): kept in the state, so
    /// a task that dies mid-chunk leaves them to its successor.
    pub waiting: Vec<Message<T>>,
}

/// Where a processor's successful messages go.
pub(crate) struct Route<T: Send + 'static> {
    pub index: usize,
    /// Batcher names, in config order, and the batchers (processors file into them).
    pub names: Vec<&'static str>,
    pub batchers: Vec<Arc<Batcher<T>>>,
}

impl<T: Send + 'static> Route<T> {
    fn batcher_of(&self, name: &'static str) -> Option<usize> {
        // Names are usually the same `&'static str`: compare addresses before bytes.
        self.names.iter().position(|b| std::ptr::eq(*b, name) || *b == name)
    }
}

/// Runs (or resumes) one processor until the producer has nothing more.
pub(crate) async fn run<P: Producer, H: Handler<Data = P::Data>>(
    state: Arc<Mutex<ProcessorState<H::Data>>>,
    producer: Arc<ProducerStage<P>>,
    handler: Arc<H>,
    acker: Arc<Acker<H::Data>>,
) {
    let mut guard = state.lock_owned().await;
    let s = &mut *guard;
    let mut latency = Vec::new();
    s.held.messages.append(&mut s.waiting); // what a dead predecessor set aside
    batcher::send(&mut s.outbox, &acker).await; // what a dead predecessor filled
    loop {
        // A producer that is always ready and room downstream mean this loop never waits:
        // give the runtime its turn now and then, or the other processors starve.
        tokio::task::coop::consume_budget().await;
        let held = s.held.messages.len();
        if held <= s.min_demand {
            let want = s.max_demand - held;
            let me = s.route.index;
            let pulled = if held == 0 {
                producer.pull(me, want).await
            } else {
                producer.try_pull(me, want).map_or(Pulled::Retire, Pulled::Messages)
            };
            match pulled {
                Pulled::Messages(messages) => {
                    let n = messages.len();
                    acker
                        .telemetry()
                        .emit(&Event::ProducerDispatched { processor: s.route.index, messages: n });
                    if held == 0 {
                        s.held.messages = messages; // take the producer's buffer as is
                    } else {
                        s.held.messages.extend(messages);
                    }
                }
                Pulled::Finished if held == 0 => break,
                // Asked to retire, and nothing held: leave, unless the retirement was called off
                // meanwhile (the concurrency went up again).
                Pulled::Retire if held == 0 => {
                    if producer.roster.confirm_retire(me) {
                        break;
                    }
                }
                Pulled::Finished | Pulled::Retire => {}
            }
        }
        // Handle at most `max_demand - min_demand`; keep the rest for the next round.
        let take = s.held.messages.len().min(s.max_demand - s.min_demand);
        if take < s.held.messages.len() {
            s.waiting = s.held.messages.split_off(take);
        }
        let handled = handle(&s.route, &mut s.held.messages, &*handler, &acker, &mut latency);
        file(&s.route, &mut s.held.messages, &acker, handled, &mut s.outbox);
        s.held.messages.append(&mut s.waiting);
        batcher::send(&mut s.outbox, &acker).await;
    }
    for b in &s.route.batchers {
        b.processor_finished();
    }
}

/// Runs the handler over the chunk, in place, and acknowledges what failed; returns when it
/// was done (the start of filing: one clock read fewer per chunk).
fn handle<H: Handler>(
    route: &Route<H::Data>,
    messages: &mut Vec<Message<H::Data>>,
    handler: &H,
    acker: &Acker<H::Data>,
    latency: &mut Vec<LatencySample>,
) -> Instant {
    let (index, me) = (route.index, StageId::Processor(route.index));
    let telemetry = acker.telemetry();
    let started = Instant::now();
    telemetry.emit(&Event::ProcessorStarted { processor: index, messages: messages.len() });
    if let Err(reason) = isolate(|| handler.prepare_messages(messages)) {
        telemetry.emit(&Event::MessageCrashed { processor: index, reason: &reason });
        for m in messages.iter_mut() {
            m.fail("panic", format!("prepare_messages panicked: {reason}"));
        }
    }
    let mut failed = 0;
    for m in messages.iter_mut() {
        if m.is_ok() {
            if let Err(reason) = isolate(|| handler.handle_message(m)) {
                telemetry.emit(&Event::MessageCrashed { processor: index, reason: &reason });
                m.fail("panic", reason);
            } else if m.is_ok() && !route.names.is_empty() && route.batcher_of(m.batcher).is_none() {
                let reason = format!("no batcher named {:?} in this pipeline", m.batcher);
                m.fail("unknown batcher", reason);
            }
        }
        // Failed messages are acknowledged below, with the chunk's, after `handle_failed`.
        if m.ack_now && !m.acked && m.is_ok() {
            acker.ack(me, std::slice::from_mut(m), &mut Vec::new());
        }
        failed += usize::from(!m.is_ok());
    }
    let now = Instant::now();
    latency.clear();
    latency_samples(now, messages, latency);
    telemetry.emit(&Event::ProcessorStopped {
        processor: index,
        duration: now - started,
        successful: messages.len() - failed,
        failed,
        latency,
    });
    if failed > 0 {
        // Only the failed ones move; the rest close up in place.
        let mut bad: Vec<Message<H::Data>> = messages.extract_if(.., |m| !m.is_ok()).collect();
        // A panic here is isolated too: the messages are acknowledged as failed regardless.
        let _ = isolate(|| handler.handle_failed(&mut bad));
        acker.ack(me, &mut [], &mut bad);
    }
    now
}

/// Files the (successful) messages into their batchers, or acknowledges them when the
/// pipeline has none; the batches that filled up go to `outbox`, to be sent on.
fn file<T: Send + 'static>(
    route: &Route<T>,
    messages: &mut Vec<Message<T>>,
    acker: &Arc<Acker<T>>,
    mut started: Instant,
    outbox: &mut Vec<(usize, batcher::Ready<T>)>,
) {
    let Some(first) = messages.first().map(|m| m.batcher) else { return };
    if route.names.is_empty() {
        acker.ack(StageId::Processor(route.index), messages, &mut Vec::new());
        messages.clear();
        return;
    }
    if messages.iter().all(|m| std::ptr::eq(m.batcher, first) || m.batcher == first) {
        if let Some(b) = route.batcher_of(first) {
            file_into(route, b, messages, acker, &mut started, outbox);
        }
        return;
    }
    let mut groups: Vec<Vec<Message<T>>> = (0..route.names.len()).map(|_| Vec::new()).collect();
    for m in messages.drain(..) {
        if let Some(b) = route.batcher_of(m.batcher) {
            groups[b].push(m);
        }
    }
    for (b, mut group) in groups.into_iter().enumerate() {
        if !group.is_empty() {
            file_into(route, b, &mut group, acker, &mut started, outbox);
        }
    }
}

/// Files into batcher `b`; `started` is when filing began, and becomes when it ended.
fn file_into<T: Send + 'static>(
    route: &Route<T>,
    b: usize,
    messages: &mut Vec<Message<T>>,
    acker: &Arc<Acker<T>>,
    started: &mut Instant,
    outbox: &mut Vec<(usize, batcher::Ready<T>)>,
) {
    let telemetry = acker.telemetry();
    let processor = route.index;
    telemetry.emit(&Event::BatcherStarted { batcher: b, processor, messages: messages.len() });
    route.batchers[b].file(messages, acker, outbox);
    let now = Instant::now();
    telemetry.emit(&Event::BatcherStopped { batcher: b, processor, duration: now - *started });
    *started = now;
}
