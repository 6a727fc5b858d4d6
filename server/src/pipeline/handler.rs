//! What a pipeline does with its messages: the user's code, called by the stages, like a
//! Broadway module's callbacks.

use super::Message;
use super::telemetry::BatchTrigger;

/// Facts about the batch `handle_batch` is given.
#[derive(Clone, Copy, Debug)]
pub struct BatchInfo<'a> {
    /// The batcher's name.
    pub batcher: &'static str,
    /// The batch key every message of the batch shares.
    pub batch_key: &'a str,
    /// Messages in the batch.
    pub size: usize,
    /// Why it was handed over now.
    pub trigger: BatchTrigger,
}

/// The work of one pipeline.
///
/// Every callback runs inside panic isolation: a panic in `prepare_messages` fails the group it
/// was given, a panic in `handle_message` fails that message, a panic in `handle_batch` fails
/// the batch, each with kind `"panic"` and the panic message as reason; the stage keeps going.
/// Callbacks are synchronous on purpose: they run on the stage's task, which must not be held
/// across awaits while it owns messages.
pub trait Handler: Send + Sync + 'static {
    type Data: Send + 'static;

    /// Sees the whole group a processor received before `handle_message` runs on each, to
    /// pre-load what the group needs at once (Broadway's `prepare_messages`). Default: nothing.
    fn prepare_messages(&self, _messages: &mut [Message<Self::Data>]) {}

    /// Validates and transforms one message: fail it with [`Message::fail`], route it with
    /// `put_batcher` / `put_batch_key`, or [`Message::ack_immediately`].
    fn handle_message(&self, message: &mut Message<Self::Data>);

    /// Handles a batch of successful messages of one batcher and key; may fail some of them.
    /// Default: nothing (the messages are acknowledged as successful).
    fn handle_batch(&self, _batch: &mut [Message<Self::Data>], _info: &BatchInfo<'_>) {}

    /// Runs on failed messages just before they are acknowledged as failed (Broadway's
    /// `handle_failed`): to log them, or to route them elsewhere. With a retry policy it runs
    /// after every failed attempt ([`Message::attempt`] says which). Default: nothing.
    fn handle_failed(&self, _messages: &mut [Message<Self::Data>]) {}

    /// The partition key of a message, in a pipeline configured `processors.partitioned`:
    /// messages with equal keys are handled by one processor, in order (Broadway's
    /// `partition_by`). A panic here puts the message in partition 0. Default: 0.
    fn partition_by(&self, _message: &Message<Self::Data>) -> u64 {
        0
    }
}

/// Turns a caught panic payload into a readable reason.
pub(crate) fn panic_reason(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs `f` inside panic isolation; returns the panic's reason if it panicked.
pub(crate) fn isolate(f: impl FnOnce()) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| panic_reason(p.as_ref()))
}
