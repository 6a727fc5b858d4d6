//! What a pipeline does with its messages: the user's code, called by the stages.

use super::Message;

/// The work of one pipeline, like a Broadway module's callbacks.
///
/// Both callbacks run inside panic isolation: a panic in `handle_message` fails that message
/// (kind `"panic"`, reason = the panic message) and the processor keeps going; a panic in
/// `handle_batch` fails the whole batch.
pub trait Handler: Send + Sync + 'static {
    type Data: Send + 'static;

    /// Validates and transforms one message; fails it with [`Message::fail`] when invalid.
    fn handle_message(&self, message: &mut Message<Self::Data>);

    /// Handles a full (or timed-out) batch of successful messages; may fail some of them.
    fn handle_batch(&self, batch: &mut [Message<Self::Data>]);
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
