//! Broadcast topics across nodes, as Phoenix.PubSub's Redis adapter does it: every
//! cluster-scoped broadcast of the hub (`broadcast`, `broadcast_from`) is published on one
//! Redis channel, `pulse:bc`, in an envelope naming its origin node; every other node delivers
//! it to its own subscribers with `local_broadcast` (wildcards are matched locally, exactly);
//! the origin ignores its echo (it delivered locally already). `local_broadcast` never leaves
//! its node. The same subscription carries the controls for every node (`controls.rs`).
//! Redis pub/sub is at-most-once: what cannot be sent (a full outbox, a failed
//! `PUBLISH`) or delivered is counted, and so is every resubscription (a gap in which
//! broadcasts may have been missed).

use super::RedisBus;
use super::codec::{Wire, from_wire, to_wire};
use super::controls::CONTROL_CHANNEL;
use crate::pubsub::PubSub;
use app::model::{Kind, SensorReading};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// The one channel every broadcast topic travels on.
pub(crate) const CHANNEL: &str = "pulse:bc";
/// Envelopes waiting for their `PUBLISH`; beyond it broadcasts are dropped (counted).
const OUTBOX: usize = 1024;
/// Longest a received broadcast waits for room in this node's blocking subscribers.
const DELIVER_WAIT: Duration = Duration::from_secs(1);

/// This node's broadcast figures (messages, i.e. items, except `gaps`).
#[derive(Default)]
pub(crate) struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    /// Not sent (outbox full, `PUBLISH` failed) or not delivered here (no room in time).
    pub dropped: AtomicU64,
    /// Times the subscription was (re)established after the first: windows of possible loss.
    pub gaps: AtomicU64,
}

/// What travels on the channel.
#[derive(Serialize, Deserialize)]
struct Envelope<W> {
    v: u8,
    origin: String,
    topic: String,
    items: Vec<W>,
}

impl RedisBus {
    /// Forwards `pubsub`'s cluster-scoped broadcasts to the other nodes (except on the
    /// pipeline's topic, which travels through the stream) and delivers theirs here.
    pub(crate) fn start_broadcast(&self, pubsub: &PubSub<SensorReading>, pipeline_topic: &str) {
        let (tx, rx) = mpsc::channel::<(Vec<u8>, u64)>(OUTBOX);
        let counters = self.inner.broadcast.clone();
        let (origin, skip) = (self.node().to_owned(), pipeline_topic.to_owned());
        pubsub.forward_to(Arc::new(move |topic: &str, items: &[SensorReading]| {
            if topic == skip || items.is_empty() {
                return;
            }
            let n = items.len() as u64;
            let envelope = Envelope::<(&str, Kind, f64, Option<u64>)> {
                v: 1,
                origin: origin.clone(),
                topic: topic.to_owned(),
                items: to_wire(items),
            };
            let sent = postcard::to_allocvec(&envelope).ok().map(|bytes| tx.try_send((bytes, n)));
            if !matches!(sent, Some(Ok(()))) {
                counters.dropped.fetch_add(n, Ordering::Relaxed);
            }
        }));
        self.inner.tasks.spawn(publish_loop(self.clone(), rx));
        self.inner.tasks.spawn(subscribe_loop(self.clone(), pubsub.clone()));
    }
}

async fn publish_loop(bus: RedisBus, mut rx: mpsc::Receiver<(Vec<u8>, u64)>) {
    let counters = bus.inner.broadcast.clone();
    loop {
        let next = tokio::select! {
            () = bus.inner.stop.cancelled() => return,
            next = rx.recv() => next,
        };
        let Some((bytes, n)) = next else { return };
        let published: Result<u64, _> =
            redis::cmd("PUBLISH").arg(CHANNEL).arg(bytes).query_async(&mut bus.conn()).await;
        match published {
            Ok(_) => counters.sent.fetch_add(n, Ordering::Relaxed),
            Err(e) => {
                bus.trouble(&e);
                counters.dropped.fetch_add(n, Ordering::Relaxed)
            }
        };
    }
}

/// Subscribes (again after every loss of the connection) and delivers what others send.
async fn subscribe_loop(bus: RedisBus, pubsub: PubSub<SensorReading>) {
    let counters = bus.inner.broadcast.clone();
    let mut first = true;
    let mut backoff = Duration::from_millis(100);
    loop {
        match bus.inner.client.get_async_pubsub().await {
            Ok(mut subscription) => {
                if subscription.subscribe(&[CHANNEL, CONTROL_CHANNEL]).await.is_ok() {
                    if !first {
                        counters.gaps.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            "broadcast channel resubscribed: broadcasts sent meanwhile were missed"
                        );
                    }
                    first = false;
                    backoff = Duration::from_millis(100);
                    let mut messages = subscription.on_message();
                    loop {
                        let message = tokio::select! {
                            () = bus.inner.stop.cancelled() => return,
                            m = messages.next() => m,
                        };
                        let Some(message) = message else { break };
                        if message.get_channel_name() == CONTROL_CHANNEL {
                            super::controls::deliver(&bus, message.get_payload_bytes());
                        } else {
                            deliver(&bus, &pubsub, message.get_payload_bytes()).await;
                        }
                    }
                }
            }
            Err(e) => bus.trouble(&e),
        }
        tokio::select! {
            () = bus.inner.stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Delivers one envelope from another node to this node's subscribers.
async fn deliver(bus: &RedisBus, pubsub: &PubSub<SensorReading>, bytes: &[u8]) {
    let counters = &bus.inner.broadcast;
    let Ok(envelope) = postcard::from_bytes::<Envelope<Wire>>(bytes) else {
        tracing::warn!("a broadcast envelope did not decode");
        return;
    };
    if envelope.origin == bus.node() {
        return; // delivered here when it was sent
    }
    let n = envelope.items.len() as u64;
    let items = from_wire(envelope.items);
    match tokio::time::timeout(DELIVER_WAIT, pubsub.local_broadcast(&envelope.topic, items)).await {
        Ok(Ok(_)) => counters.received.fetch_add(n, Ordering::Relaxed),
        Ok(Err(_)) | Err(_) => counters.dropped.fetch_add(n, Ordering::Relaxed),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_with_its_origin_and_topic() {
        let readings =
            vec![SensorReading { sensor: "s-1".into(), kind: Kind::Pressure, value: 990.5, at: None }];
        let sent = Envelope {
            v: 1,
            origin: "a".into(),
            topic: "sensors.pressure".into(),
            items: to_wire(&readings),
        };
        let bytes = postcard::to_allocvec(&sent).expect("encodes");
        let back: Envelope<Wire> = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!((back.v, back.origin.as_str(), back.topic.as_str()), (1, "a", "sensors.pressure"));
        assert_eq!(from_wire(back.items), readings);
    }
}
