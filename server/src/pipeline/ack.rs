//! Acknowledgement: the contract every message ends in exactly once, the engine's wrapper that
//! adds telemetry and skips messages already acknowledged, and the drop guard that resolves a
//! message as failed when the stage holding it dies (Vector's finalizers, per chunk).

use super::Message;
use super::handler::isolate;
use super::producer_stage::RetrySink;
use super::telemetry::{Event, LatencySample, StageId, Telemetry, latency_samples};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Failure kind of messages still in the pipeline when its drain timed out.
pub(crate) const SHUTDOWN_TIMEOUT: &str = "shutdown timeout";

/// Told the fate of messages, like Broadway's `Acknowledger.ack/3`. Failed messages are
/// acknowledged once they fail (after `handle_failed`), successful ones once their batch has
/// been handled (or right after `handle_message` with [`Message::ack_immediately`]).
///
/// Implementations must be cheap and must not block: they run on the pipeline's tasks, once
/// per chunk or batch.
pub trait Acknowledger<T>: Send + Sync + 'static {
    fn ack(&self, successful: &[Message<T>], failed: &[Message<T>]);
}

/// Acknowledgers told in turn, in the order they were added: how an application makes one
/// acknowledger of several (e.g. its ledger, then a sample for the UI, then a dead-letter
/// sink), with the order written where the chain is built.
pub struct AckChain<T> {
    links: Vec<Arc<dyn Acknowledger<T>>>,
}

impl<T> Default for AckChain<T> {
    fn default() -> Self {
        Self { links: Vec::new() }
    }
}

impl<T> AckChain<T> {
    /// Adds `next` after the acknowledgers already in the chain.
    pub fn then(mut self, next: Arc<dyn Acknowledger<T>>) -> Self {
        self.links.push(next);
        self
    }
}

impl<T: 'static> Acknowledger<T> for AckChain<T> {
    fn ack(&self, successful: &[Message<T>], failed: &[Message<T>]) {
        for link in &self.links {
            link.ack(successful, failed);
        }
    }
}

/// The engine's side of acknowledgement: calls the user's acknowledger exactly once per
/// message and reports the acknowledgement (with publish→ack latency) to telemetry. With a
/// retry policy, failed messages that get another attempt go back to the producer stage
/// instead: they are acknowledged only once their last attempt is over.
pub(crate) struct Acker<T> {
    acknowledger: Arc<dyn Acknowledger<T>>,
    retry: OnceLock<Arc<dyn RetrySink<T>>>,
    telemetry: Telemetry,
    /// Messages failed by drop guards (their stage died or was torn down).
    guarded: AtomicU64,
    /// Set when the drain timed out: guards then fail messages as `"shutdown timeout"`.
    halted: AtomicBool,
}

impl<T: Send + 'static> Acker<T> {
    pub(crate) fn new(acknowledger: Arc<dyn Acknowledger<T>>, telemetry: Telemetry) -> Arc<Self> {
        Arc::new(Self {
            acknowledger,
            retry: OnceLock::new(),
            telemetry,
            guarded: AtomicU64::new(0),
            halted: AtomicBool::new(false),
        })
    }

    /// Sends failed messages that get another attempt to `sink` from now on.
    pub(crate) fn retry_into(&self, sink: Arc<dyn RetrySink<T>>) {
        let _ = self.retry.set(sink);
    }

    /// Acknowledges `successful` and `failed`, leaving out messages already acknowledged
    /// (they are moved to the end of their vector and marked). Failed messages queued for a
    /// retry are taken out of `failed`. Every message left is marked acknowledged afterwards.
    pub(crate) fn ack(&self, stage: StageId, successful: &mut [Message<T>], failed: &mut Vec<Message<T>>) {
        if let Some(sink) = self.retry.get().filter(|_| !failed.is_empty()) {
            let messages = sink.offer(failed);
            if messages > 0 {
                self.telemetry.emit(&Event::MessagesRetried { stage, messages });
            }
        }
        let ok = fresh(successful);
        let bad = fresh(failed);
        if ok == 0 && bad == 0 {
            return;
        }
        let (ok_msgs, bad_msgs) = (&mut successful[..ok], &mut failed[..bad]);
        // The acknowledger is the user's code too: a panic in it is logged, and the messages
        // count as acknowledged (there is no one else to tell).
        if let Err(reason) = isolate(|| self.acknowledger.ack(ok_msgs, bad_msgs)) {
            tracing::error!(%stage, "acknowledger panicked: {reason}");
        }
        let now = Instant::now();
        let mut latency: Vec<LatencySample> = Vec::new();
        latency_samples(now, ok_msgs, &mut latency);
        latency_samples(now, bad_msgs, &mut latency);
        for m in ok_msgs.iter_mut().chain(bad_msgs.iter_mut()) {
            m.acked = true;
        }
        self.telemetry.emit(&Event::MessagesAcked { stage, successful: ok, failed: bad, latency: &latency });
    }

    pub(crate) fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// Messages failed by drop guards so far.
    pub(crate) fn guarded(&self) -> u64 {
        self.guarded.load(Ordering::Acquire)
    }

    /// From now on, guards fail what they hold as abandoned at shutdown.
    pub(crate) fn halt(&self) {
        self.halted.store(true, Ordering::Release);
    }
}

/// Moves already-acknowledged messages to the end (keeping order otherwise) and returns how
/// many are not acknowledged yet. Free when none is (the usual case).
fn fresh<T>(messages: &mut [Message<T>]) -> usize {
    if messages.iter().any(|m| m.acked) {
        messages.sort_by_key(|m| m.acked); // stable: order of the fresh ones is kept
        messages.iter().take_while(|m| !m.acked).count()
    } else {
        messages.len()
    }
}

/// Messages held by a stage. If the holder drops them without handing them on or
/// acknowledging them (its task was aborted, or died), the guard fails them (kind
/// `"stage crashed"`, unless a handler had already failed them) and acknowledges them: nothing in flight is ever lost without a trace.
pub(crate) struct InFlight<T: Send + 'static> {
    pub messages: Vec<Message<T>>,
    acker: Arc<Acker<T>>,
    /// Who holds them now: named in the failure reason.
    pub holder: StageId,
}

impl<T: Send + 'static> InFlight<T> {
    pub(crate) fn new(messages: Vec<Message<T>>, acker: Arc<Acker<T>>, holder: StageId) -> Self {
        Self { messages, acker, holder }
    }

    /// Takes the messages out: the caller is now responsible for them.
    pub(crate) fn take(&mut self) -> Vec<Message<T>> {
        std::mem::take(&mut self.messages)
    }
}

impl<T: Send + 'static> InFlight<T> {
    /// Fails and acknowledges every message held (those a handler failed keep their reason):
    /// what the guard does when dropped, callable on a guard that lives on.
    pub(crate) fn abandon(&mut self) {
        if self.messages.is_empty() {
            return;
        }
        let (kind, reason) = if self.acker.halted.load(Ordering::Acquire) {
            (SHUTDOWN_TIMEOUT, format!("abandoned in the {} stage: the drain timed out", self.holder))
        } else {
            ("stage crashed", format!("the {} stage stopped while holding this message", self.holder))
        };
        for m in self.messages.iter_mut().filter(|m| m.is_ok()) {
            m.fail(kind, reason.clone());
        }
        let unacked = self.messages.iter().filter(|m| !m.acked).count();
        let before = self.messages.len();
        self.acker.ack(self.holder, &mut [], &mut self.messages);
        let retried = before - self.messages.len();
        self.acker.guarded.fetch_add((unacked - retried) as u64, Ordering::AcqRel);
        self.messages.clear();
    }
}

impl<T: Send + 'static> Drop for InFlight<T> {
    fn drop(&mut self) {
        self.abandon();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Who was told, and how many successful and failed messages.
    type Log = Arc<Mutex<Vec<(&'static str, usize, usize)>>>;

    /// Writes its name and what it was told into a shared log.
    struct Named(&'static str, Log);

    impl Acknowledger<u8> for Named {
        fn ack(&self, successful: &[Message<u8>], failed: &[Message<u8>]) {
            self.1.lock().expect("not poisoned").push((self.0, successful.len(), failed.len()));
        }
    }

    #[test]
    fn a_chain_tells_every_link_in_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let chain = AckChain::default()
            .then(Arc::new(Named("ledger", log.clone())))
            .then(Arc::new(Named("feed", log.clone())))
            .then(Arc::new(Named("dead letters", log.clone())));
        let ok: Vec<_> = (0..2).map(|i| Message::new(i, Instant::now())).collect();
        let bad = vec![Message::new(9, Instant::now()).failed("bad", "too hot")];
        chain.ack(&ok, &bad);
        let log = log.lock().expect("not poisoned");
        assert_eq!(*log, vec![("ledger", 2, 1), ("feed", 2, 1), ("dead letters", 2, 1)]);
    }
}
