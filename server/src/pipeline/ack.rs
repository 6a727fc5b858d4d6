//! The acknowledgement contract: every message ends here exactly once, as successful or failed.

use super::Message;

/// Told the fate of messages. Failed messages are acknowledged as soon as they fail (in the
/// processor); successful ones once their batch has been handled. Implementations must be cheap:
/// they run on the pipeline's tasks, once per chunk or batch, never per message hand-off.
pub trait Acknowledger<T>: Send + Sync + 'static {
    fn ack(&self, successful: &[Message<T>], failed: &[Message<T>]);
}
