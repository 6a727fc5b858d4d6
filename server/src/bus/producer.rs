//! [`RedisProducer`]: the engine's `Producer` in redis mode. It hands the pipeline the events of
//! the entries its reader task read (each event with its cluster-wide id and, when redelivered,
//! its delivery count), never more than asked, and holds at most a few entries ahead (the
//! read-ahead), so what a dead node leaves for others to claim stays small.

use super::RedisBus;
use super::acks::Tracker;
use super::codec::{DELIVERIES, EVENT_ID, Entry, event_id};
use super::reader::read_loop;
use crate::pipeline::{Message, Producer};
use crate::telemetry::Ledger;
use app::model::SensorReading;
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The pipeline's source in redis mode: the group's entries, through this node's consumer.
pub struct RedisProducer {
    rx: mpsc::Receiver<Entry>,
    buffer: VecDeque<Message<SensorReading>>,
    /// Stops the reader (the pipeline drains).
    stop: CancellationToken,
    /// The node's local ledger counts what entered this node's pipeline.
    ledger: Arc<Ledger>,
    tracker: Arc<Tracker>,
    name: String,
}

impl RedisProducer {
    /// Starts the reader task; returns the producer and the sender the reaper hands claimed
    /// entries to.
    pub(crate) fn start(bus: &RedisBus, ledger: Arc<Ledger>) -> (Self, mpsc::Sender<Entry>) {
        let read_ahead = bus.config().read_ahead.max(1);
        let (tx, rx) = mpsc::channel(read_ahead);
        let (claims_tx, claims_rx) = mpsc::channel(read_ahead);
        let stop = bus.inner.stop.child_token();
        bus.inner.tasks.spawn(read_loop(bus.clone(), tx, claims_rx, stop.clone()));
        let name = format!("redis stream: {} (group {})", bus.inner.keys.stream, bus.inner.keys.group);
        let producer =
            Self { rx, buffer: VecDeque::new(), stop, ledger, tracker: bus.inner.acks.clone(), name };
        (producer, claims_tx)
    }

    /// Turns an entry into messages, unless this node already works on it.
    fn take(&mut self, entry: Entry) {
        if !self.tracker.open(&entry.id, entry.readings.len()) {
            return;
        }
        self.ledger.published(entry.readings.len() as u64);
        let at = published_at(&entry.id);
        for (i, reading) in entry.readings.into_iter().enumerate() {
            let mut m = Message::new(reading, at);
            m.metadata.insert(EVENT_ID, event_id(&entry.id, i));
            if entry.deliveries > 1 {
                m.metadata.insert(DELIVERIES, entry.deliveries.to_string());
            }
            self.buffer.push_back(m);
        }
    }
}

/// When an entry was published, on this node's clock: its id's milliseconds are Redis' clock
/// at the `XADD`, so publish→ack latency includes the time in Redis (as far as the two clocks
/// agree: one machine, or NTP; a negative or absurd age counts as 0).
fn published_at(entry: &str) -> Instant {
    let now = Instant::now();
    let ms = entry.split_once('-').and_then(|(ms, _)| ms.parse::<u64>().ok());
    let age = ms.map_or(0, |ms| super::handle::unix_ms().saturating_sub(ms));
    if age > 3_600_000 { now } else { now.checked_sub(Duration::from_millis(age)).unwrap_or(now) }
}

impl Producer for RedisProducer {
    type Data = SensorReading;

    fn poll_produce(
        &mut self,
        cx: &mut Context<'_>,
        demand: usize,
    ) -> Poll<Option<Vec<Message<SensorReading>>>> {
        while self.buffer.len() < demand {
            let next = if self.buffer.is_empty() {
                match self.rx.poll_recv(cx) {
                    Poll::Ready(next) => next,
                    Poll::Pending => return Poll::Pending,
                }
            } else {
                self.rx.try_recv().ok()
            };
            match next {
                Some(entry) => self.take(entry),
                None if self.buffer.is_empty() => return Poll::Ready(None),
                None => break,
            }
        }
        let n = demand.min(self.buffer.len());
        Poll::Ready(Some(self.buffer.drain(..n).collect()))
    }

    fn drain(&mut self) {
        self.stop.cancel();
    }

    fn abandon(&mut self) -> Vec<Message<SensorReading>> {
        while let Ok(entry) = self.rx.try_recv() {
            self.take(entry);
        }
        self.buffer.drain(..).collect()
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entrys_age_comes_from_its_id() {
        let ms = super::super::handle::unix_ms() - 250;
        let age = published_at(&format!("{ms}-0")).elapsed();
        assert!(age >= Duration::from_millis(250) && age < Duration::from_secs(60), "{age:?}");
        for odd in ["0-0", "nonsense", "99999999999999-0"] {
            assert!(published_at(odd).elapsed() < Duration::from_secs(1), "{odd}: age 0");
        }
    }
}
