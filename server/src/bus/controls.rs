//! Controls that apply to every node: pause or resume intake, processor concurrency, the rate
//! limit. The node asked applies the command to its own pipeline first, then publishes it on
//! one Redis channel, `pulse:ctl`, naming itself as the origin; every other node applies it
//! when it arrives (the subscription is the broadcast one, see `broadcast.rs`). Like every
//! Redis pub/sub message it is at most once: a node that was disconnected misses it, which
//! is why each node reports the controls it actually runs with in its heartbeat (refreshed
//! every third of a TTL), and the cluster view shows them per node.

use super::RedisBus;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The channel control commands travel on.
pub(crate) const CONTROL_CHANNEL: &str = "pulse:ctl";

/// One control, for every node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Pause (`true`) or resume intake.
    Pause(bool),
    /// Run this many processors.
    Concurrency(u32),
    /// At most this many messages per interval (ms); `None` lifts the limit.
    RateLimit(Option<(u64, u64)>),
}

/// Applies a command to this node's pipeline; the error says why it could not.
pub type Apply = Arc<dyn Fn(&Command) -> Result<(), String> + Send + Sync>;

/// The controls this node runs with now, in words (for its heartbeat).
pub type Report = Arc<dyn Fn() -> String + Send + Sync>;

/// What travels on the channel.
#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u8,
    origin: String,
    command: Command,
}

/// How the node applies and reports controls: set once, when the server is wired.
pub(crate) struct Hooks {
    pub apply: Apply,
    pub report: Report,
}

impl RedisBus {
    /// Sets how this node applies commands from others and reports what it runs with.
    pub fn on_controls(&self, apply: Apply, report: Report) {
        let _ = self.inner.controls.set(Hooks { apply, report });
    }

    /// Applies `command` here, then sends it to every other node; the number of other nodes'
    /// subscriptions that received it (Redis' own count).
    pub async fn control_all(&self, command: Command) -> Result<u64, ControlError> {
        if let Some(hooks) = self.inner.controls.get() {
            (hooks.apply)(&command).map_err(ControlError::Refused)?;
        }
        let envelope = Envelope { v: 1, origin: self.node().to_owned(), command };
        let bytes = postcard::to_allocvec(&envelope).map_err(|e| ControlError::Encode(e.to_string()))?;
        let receivers: u64 = redis::cmd("PUBLISH")
            .arg(CONTROL_CHANNEL)
            .arg(bytes)
            .query_async(&mut self.conn())
            .await
            .map_err(|e| ControlError::Redis(e.to_string()))?;
        // Our own subscription receives it too, and ignores it (it was applied above).
        Ok(receivers.saturating_sub(1))
    }

    /// The controls this node runs with, in words; empty before the hooks are set.
    pub(crate) fn applied_controls(&self) -> String {
        self.inner.controls.get().map(|h| (h.report)()).unwrap_or_default()
    }
}

/// Applies a command another node sent.
pub(crate) fn deliver(bus: &RedisBus, bytes: &[u8]) {
    let Ok(envelope) = postcard::from_bytes::<Envelope>(bytes) else {
        tracing::warn!("a control envelope did not decode");
        return;
    };
    if envelope.origin == bus.node() {
        return; // applied when it was sent
    }
    let Some(hooks) = bus.inner.controls.get() else { return };
    match (hooks.apply)(&envelope.command) {
        Ok(()) => {
            tracing::info!(from = envelope.origin, command = ?envelope.command, "applied a control for every node")
        }
        Err(e) => {
            tracing::warn!(from = envelope.origin, command = ?envelope.command, "a control for every node was refused here: {e}")
        }
    }
}

/// Why a control for every node was not sent.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{0}")]
    Refused(String),
    #[error("could not encode the command: {0}")]
    Encode(String),
    #[error("Redis did not take the command: {0}")]
    Redis(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_with_its_origin_and_command() {
        for command in [Command::Pause(true), Command::Concurrency(4), Command::RateLimit(Some((500, 1000)))]
        {
            let bytes =
                postcard::to_allocvec(&Envelope { v: 1, origin: "a".into(), command: command.clone() })
                    .expect("encode");
            let back: Envelope = postcard::from_bytes(&bytes).expect("decode");
            assert_eq!((back.origin.as_str(), back.command), ("a", command));
        }
    }
}
