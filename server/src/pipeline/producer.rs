//! The producer stage: turns a pub/sub subscription into messages handed out on demand.
//!
//! A processor asks for up to `n` messages ([`Demand`]) and gets a chunk of at most `n`; the
//! producer never pushes unasked. While no one asks, nothing is taken from the subscription, so
//! its bounded buffer fills and back-pressure reaches the publisher.

use super::{Acknowledger, Message};
use crate::pubsub::Subscription;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A request for up to `n` messages, answered on `reply`. A dropped reply means the producer
/// has finished: the subscription is closed and drained.
pub(crate) struct Demand<T> {
    pub n: usize,
    pub reply: oneshot::Sender<Vec<Message<T>>>,
}

/// Runs until the subscription ends and every buffered message has been handed out. If every
/// processor is gone first, what is left is acknowledged as failed (kind `"no processor"`):
/// nothing is lost without a trace.
pub(crate) async fn run<T: Send + 'static>(
    mut subscription: Subscription<T>,
    mut demands: mpsc::Receiver<Demand<T>>,
    acknowledger: Arc<dyn Acknowledger<T>>,
) {
    let mut buffer: VecDeque<Message<T>> = VecDeque::new();
    while let Some(demand) = demands.recv().await {
        if buffer.is_empty() {
            match subscription.recv().await {
                Some(d) => {
                    let at = d.published_at;
                    buffer.extend(d.items.into_iter().map(|item| Message::new(item, at)));
                }
                None => break, // closed and drained: dropping `demand` tells the processor
            }
        }
        let take = demand.n.min(buffer.len());
        let chunk: Vec<Message<T>> = buffer.drain(..take).collect();
        if let Err(unwanted) = demand.reply.send(chunk) {
            // The asker is gone: keep its messages for the next demand, in order.
            for m in unwanted.into_iter().rev() {
                buffer.push_front(m);
            }
        }
    }
    // Stop accepting demand; processors waiting on it see the channel end.
    demands.close();
    let mut orphans: Vec<Message<T>> = buffer.into_iter().collect();
    while let Some(d) = subscription.try_recv() {
        let at = d.published_at;
        orphans.extend(d.items.into_iter().map(|item| Message::new(item, at)));
    }
    if !orphans.is_empty() {
        for m in &mut orphans {
            m.fail("no processor", "every processor stopped before this message was handed out");
        }
        acknowledger.ack(&[], &orphans);
    }
}
