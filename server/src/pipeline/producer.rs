//! Producers: where a pipeline's messages come from. A producer only ever hands out what a
//! stage asked for (demand), so a slow pipeline slows its source instead of buffering.
//!
//! - [`PubSubProducer`]: subscribed to topics of the [`PubSub`]; its bounded subscription
//!   buffer is what back-pressure fills, and what reaches the publisher.
//! - [`GenerateProducer`]: builds messages on demand from a function (benchmarks, demos).
//! - `testing::TestProducer`: fed by a test, message by message.

use super::Message;
use crate::pubsub::{PubSub, PubSubError, SubscribeConfig, Subscription};
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// A reading of how many messages wait in a producer's source (queue depth).
pub type Gauge = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A source of messages driven by demand (a GenStage producer's `handle_demand`), polled like
/// a `Stream`.
///
/// Polling (rather than an `async fn`) lets processors pull under a short, unfair lock: the
/// first measured design, an async fair lock around an `async fn produce`, handed the lock to
/// parked tasks and collapsed into a lock convoy with more processors than cores.
pub trait Producer: Send + 'static {
    type Data: Send + 'static;

    /// At least one and at most `demand` messages if some are ready; `Ready(None)` once the
    /// producer has nothing more and never will (its source ended, or it was drained and is
    /// empty); `Pending` otherwise, after arranging for `cx`'s waker to be woken when messages
    /// may be ready (as `Stream::poll_next` does).
    fn poll_produce(&mut self, cx: &mut Context<'_>, demand: usize)
    -> Poll<Option<Vec<Message<Self::Data>>>>;

    /// Stops taking new work from the source; what is already buffered is still handed out,
    /// then `produce` returns `None` (Broadway's `prepare_for_draining`). Default: nothing.
    fn drain(&mut self) {}

    /// The drain timed out: returns what is still buffered (as messages, with their metadata
    /// and publish time), so the engine can fail it rather than lose it silently. Default:
    /// nothing buffered.
    fn abandon(&mut self) -> Vec<Message<Self::Data>> {
        Vec::new()
    }

    /// How to read the source's queue depth, if it has one.
    fn backlog(&self) -> Option<Gauge> {
        None
    }

    /// A short name for the topology view, e.g. `"pub/sub: events"`.
    fn describe(&self) -> String;
}

/// A producer subscribed to one or more topics of a [`PubSub`].
pub struct PubSubProducer<T> {
    subscription: Subscription<T>,
    buffer: VecDeque<Message<T>>,
    topics: Vec<String>,
}

impl<T: Clone + Send + 'static> PubSubProducer<T> {
    /// Subscribes to every topic or pattern in `topics` with one shared, bounded buffer;
    /// refused if one is invalid.
    pub fn subscribe(
        pubsub: &PubSub<T>,
        topics: &[&str],
        config: SubscribeConfig,
    ) -> Result<Self, PubSubError> {
        Ok(Self {
            subscription: pubsub.subscribe_many(topics, config)?,
            buffer: VecDeque::new(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        })
    }
}

impl<T: Send + 'static> Producer for PubSubProducer<T> {
    type Data = T;

    fn poll_produce(&mut self, cx: &mut Context<'_>, demand: usize) -> Poll<Option<Vec<Message<T>>>> {
        if self.buffer.is_empty() {
            let Some(delivery) = std::task::ready!(self.subscription.poll_recv(cx)) else {
                return Poll::Ready(None);
            };
            let at = delivery.published_at;
            self.buffer.extend(delivery.items.into_iter().map(|item| Message::new(item, at)));
        }
        // Small publishes: gather what else is already waiting, up to the demand.
        while self.buffer.len() < demand {
            let Some(delivery) = self.subscription.try_recv() else { break };
            let at = delivery.published_at;
            self.buffer.extend(delivery.items.into_iter().map(|item| Message::new(item, at)));
        }
        let take = demand.min(self.buffer.len());
        Poll::Ready(Some(self.buffer.drain(..take).collect()))
    }

    fn drain(&mut self) {
        self.subscription.close();
    }

    fn abandon(&mut self) -> Vec<Message<T>> {
        let mut left: Vec<Message<T>> = self.buffer.drain(..).collect();
        while let Some(d) = self.subscription.try_recv() {
            let at = d.published_at;
            left.extend(d.items.into_iter().map(|item| Message::new(item, at)));
        }
        left
    }

    fn backlog(&self) -> Option<Gauge> {
        Some(self.subscription.gauge())
    }

    fn describe(&self) -> String {
        format!("pub/sub: {}", self.topics.join(", "))
    }
}

/// Builds messages on demand, one `make()` call per message, until `limit` messages have been
/// made; each chunk is stamped with the time it was made.
pub struct GenerateProducer<T, F> {
    make: F,
    left: u64,
    name: String,
    _data: std::marker::PhantomData<fn() -> T>,
}

impl<T, F: FnMut() -> T> GenerateProducer<T, F> {
    pub fn new(name: impl Into<String>, limit: u64, make: F) -> Self {
        Self { make, left: limit, name: name.into(), _data: std::marker::PhantomData }
    }
}

impl<T: Send + 'static, F: FnMut() -> T + Send + 'static> Producer for GenerateProducer<T, F> {
    type Data = T;

    fn poll_produce(&mut self, _cx: &mut Context<'_>, demand: usize) -> Poll<Option<Vec<Message<T>>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = (demand as u64).min(self.left) as usize;
        self.left -= n as u64;
        let at = Instant::now();
        Poll::Ready(Some((0..n).map(|_| Message::new((self.make)(), at)).collect()))
    }

    fn drain(&mut self) {
        self.left = 0;
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
