//! Test helpers shipped with the engine (Broadway's `test_message` / `test_batch`): a producer
//! a test feeds, an acknowledger that records every ack, and [`TestPipeline`], which pushes
//! messages through a real topology and hands the test their acknowledgements.

use super::producer::Producer;
use super::{Acknowledger, Handler, Message, Pipeline, PipelineConfig, PipelineError, Status};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

/// Metadata key holding a test message's reference.
pub const TEST_REF: &str = "test_ref";

/// A producer fed by the test through its [`TestFeed`].
pub struct TestProducer<T> {
    rx: mpsc::UnboundedReceiver<Vec<Message<T>>>,
    buffer: VecDeque<Message<T>>,
}

/// The test's side of a [`TestProducer`].
#[derive(Clone)]
pub struct TestFeed<T> {
    tx: mpsc::UnboundedSender<Vec<Message<T>>>,
}

impl<T: Send + 'static> TestProducer<T> {
    pub fn new() -> (Self, TestFeed<T>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { rx, buffer: VecDeque::new() }, TestFeed { tx })
    }
}

impl<T: Send + 'static> TestFeed<T> {
    /// Hands `items` to the producer as one published chunk. False once the producer is gone.
    pub fn push(&self, items: Vec<T>) -> bool {
        let now = Instant::now();
        self.push_messages(items.into_iter().map(|d| Message::new(d, now)).collect())
    }

    /// Hands ready-made messages to the producer.
    pub fn push_messages(&self, messages: Vec<Message<T>>) -> bool {
        self.tx.send(messages).is_ok()
    }
}

impl<T: Send + 'static> Producer for TestProducer<T> {
    type Data = T;

    fn poll_produce(&mut self, cx: &mut Context<'_>, demand: usize) -> Poll<Option<Vec<Message<T>>>> {
        while self.buffer.is_empty() {
            match std::task::ready!(self.rx.poll_recv(cx)) {
                Some(chunk) => self.buffer.extend(chunk),
                None => return Poll::Ready(None),
            }
        }
        let take = demand.min(self.buffer.len());
        Poll::Ready(Some(self.buffer.drain(..take).collect()))
    }

    fn drain(&mut self) {
        self.rx.close();
    }

    fn abandon(&mut self) -> Vec<Message<T>> {
        let mut left: Vec<Message<T>> = self.buffer.drain(..).collect();
        while let Ok(chunk) = self.rx.try_recv() {
            left.extend(chunk);
        }
        left
    }

    fn describe(&self) -> String {
        "test producer".into()
    }
}

/// One acknowledged message as the test sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Acked<T> {
    pub data: T,
    pub status: Status,
    pub batcher: &'static str,
    pub batch_key: String,
}

impl<T> Acked<T> {
    pub fn is_ok(&self) -> bool {
        matches!(self.status, Status::Ok)
    }
}

/// An acknowledger that records every ack, keyed by the message's [`TEST_REF`] (messages
/// without one are recorded under `"-"`), and counts how often each was acknowledged.
pub struct Recorder<T> {
    acks: Mutex<HashMap<String, Vec<Acked<T>>>>,
    changed: Notify,
}

impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Self { acks: Mutex::default(), changed: Notify::new() }
    }
}

impl<T: Clone> Recorder<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Acked<T>>>> {
        self.acks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every ack of the message with reference `r` (more than one is a bug in the engine).
    pub fn acks_of(&self, r: &str) -> Vec<Acked<T>> {
        self.lock().get(r).cloned().unwrap_or_default()
    }

    /// Every ack recorded, in no particular order.
    pub fn all(&self) -> Vec<Acked<T>> {
        self.lock().values().flatten().cloned().collect()
    }

    /// Waits until `refs` have all been acknowledged, at most `timeout`; returns their first
    /// acks in the order of `refs`, or `None` on timeout.
    pub async fn wait_for(&self, refs: &[String], timeout: Duration) -> Option<Vec<Acked<T>>> {
        let collect = async {
            loop {
                let notified = self.changed.notified();
                {
                    let acks = self.lock();
                    if refs.iter().all(|r| acks.contains_key(r)) {
                        return refs.iter().map(|r| acks[r][0].clone()).collect();
                    }
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, collect).await.ok()
    }
}

impl<T: Clone + Send + 'static> Acknowledger<T> for Recorder<T> {
    fn ack(&self, successful: &[Message<T>], failed: &[Message<T>]) {
        let mut acks = self.lock();
        for m in successful.iter().chain(failed) {
            let r = m.metadata.get(TEST_REF).unwrap_or("-").to_owned();
            acks.entry(r).or_default().push(Acked {
                data: m.data.clone(),
                status: m.status.clone(),
                batcher: m.batcher,
                batch_key: m.batch_key.to_string(),
            });
        }
        drop(acks);
        self.changed.notify_waiters();
    }
}

/// A real pipeline fed by a test producer and recorded by a [`Recorder`].
pub struct TestPipeline<T> {
    pub pipeline: Pipeline,
    pub feed: TestFeed<T>,
    pub recorder: Arc<Recorder<T>>,
    next_ref: std::sync::atomic::AtomicU64,
}

/// How long `test_message` / `test_batch` wait for acknowledgements.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(10);

impl<T: Clone + Send + 'static> TestPipeline<T> {
    /// Starts `handler` in a pipeline shaped by `config`.
    pub fn start<H: Handler<Data = T>>(config: PipelineConfig, handler: H) -> Result<Self, PipelineError> {
        let (producer, feed) = TestProducer::new();
        let recorder = Arc::new(Recorder::default());
        let pipeline = Pipeline::start(config, producer, Arc::new(handler), recorder.clone())?;
        Ok(Self { pipeline, feed, recorder, next_ref: Default::default() })
    }

    /// Pushes one message through the pipeline and returns its acknowledgement.
    ///
    /// # Panics
    /// If it is not acknowledged within [`ACK_TIMEOUT`]: a test helper failing loudly.
    pub async fn test_message(&self, data: T) -> Acked<T> {
        self.test_batch(vec![data]).await.remove(0)
    }

    /// Pushes `items` as one published chunk and returns their acknowledgements, in order.
    ///
    /// # Panics
    /// If they are not all acknowledged within [`ACK_TIMEOUT`].
    pub async fn test_batch(&self, items: Vec<T>) -> Vec<Acked<T>> {
        let now = Instant::now();
        let mut refs = Vec::with_capacity(items.len());
        let messages = items
            .into_iter()
            .map(|d| {
                let r = self.next_ref.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string();
                let mut m = Message::new(d, now);
                m.metadata.insert(TEST_REF, r.clone());
                refs.push(r);
                m
            })
            .collect();
        assert!(self.feed.push_messages(messages), "the test producer has stopped");
        match self.recorder.wait_for(&refs, ACK_TIMEOUT).await {
            Some(acks) => acks,
            None => panic!("messages not acknowledged within {ACK_TIMEOUT:?}"),
        }
    }
}
