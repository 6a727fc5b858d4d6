//! Back-pressure: a slow stage slows the publisher instead of letting anything buffer without
//! bound. The bounds asserted are the buffers' sizes added up, far below what was published.

use super::*;
use crate::pipeline::{Acknowledger, Pipeline, PubSubProducer};
use crate::pubsub::{Overflow, PubSub, SubscribeConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::Instant;

/// Counts acknowledged messages.
#[derive(Default)]
struct Count(AtomicU64);

impl Acknowledger<u64> for Count {
    fn ack(&self, successful: &[Message<u64>], failed: &[Message<u64>]) {
        self.0.fetch_add((successful.len() + failed.len()) as u64, Ordering::SeqCst);
    }
}

/// Publishes `total` messages on `topic`, `chunk` per publish, counting those published.
fn publisher(
    pubsub: &PubSub<u64>,
    total: u64,
    chunk: u64,
) -> (tokio::task::JoinHandle<Duration>, Arc<AtomicU64>) {
    let published = Arc::new(AtomicU64::new(0));
    let (pubsub, counter) = (pubsub.clone(), published.clone());
    let task = tokio::spawn(async move {
        let started = Instant::now();
        for first in (0..total).step_by(chunk as usize) {
            pubsub.publish("events", (first..first + chunk).collect()).await.expect("open");
            counter.fetch_add(chunk, Ordering::SeqCst);
        }
        started.elapsed()
    });
    (task, published)
}

/// Samples the pipeline every few milliseconds until the publisher is done, checking that
/// published-but-not-acknowledged stays within `bound` and that the subscription buffer stays
/// within `buffer`.
async fn hold_within(
    pipeline: &Pipeline,
    publisher: &tokio::task::JoinHandle<Duration>,
    published: &AtomicU64,
    acked: &AtomicU64,
    buffer: u64,
    bound: u64,
) -> usize {
    let deadline = Instant::now() + WAIT;
    let mut samples = 0;
    while !publisher.is_finished() {
        assert!(Instant::now() < deadline, "the publisher did not finish within {WAIT:?}");
        // Published first, acknowledged second: the difference can only understate.
        let p = published.load(Ordering::SeqCst);
        let a = acked.load(Ordering::SeqCst);
        assert!(
            p.saturating_sub(a) <= bound,
            "{p} published but only {a} acked: more than {bound} in flight"
        );
        let queue = pipeline.stats().stages[0].queue;
        assert!(queue <= buffer, "the subscription holds {queue} > {buffer}");
        samples += 1;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    samples
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_slows_the_publisher_and_bounds_every_queue() {
    let pubsub = PubSub::<u64>::new();
    let producer =
        PubSubProducer::subscribe(&pubsub, &["events"], SubscribeConfig::blocking(8)).expect("valid topics");
    let handler = Script::new().message(|_| std::thread::sleep(Duration::from_millis(1)));
    let acked = Arc::new(Count::default());
    let pipeline =
        Pipeline::start(config(1, 4, vec![]), producer, Arc::new(handler), acked.clone()).expect("valid");

    let (task, published) = publisher(&pubsub, 300, 1);
    // In flight at most: 8 in the subscription and max_demand (4) held by the processor; the
    // producer keeps nothing over (its deliveries are of one message).
    let samples = hold_within(&pipeline, &task, &published, &acked.0, 8, 12).await;
    assert!(samples > 10, "sampled only {samples} times");
    let took = task.await.expect("publisher");
    assert!(took >= Duration::from_millis(288), "the publisher was not held back: done in {took:?}");
    let processor_queue = pipeline.stats().stages[1].queue;
    assert!(processor_queue <= 4, "the processor's inbox holds {processor_queue}");

    pubsub.close();
    tokio::time::timeout(WAIT, pipeline.finished()).await.expect("ends");
    assert_eq!(acked.0.load(Ordering::SeqCst), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_batch_handler_holds_back_the_processors_and_the_publisher() {
    let pubsub = PubSub::<u64>::new();
    let producer =
        PubSubProducer::subscribe(&pubsub, &["events"], SubscribeConfig::blocking(10)).expect("valid topics");
    let handler = Script::new().batch(|_, _| std::thread::sleep(Duration::from_millis(2)));
    let acked = Arc::new(Count::default());
    let batchers = vec![batcher("default", 5, Duration::from_millis(5))];
    let pipeline =
        Pipeline::start(config(2, 5, batchers), producer, Arc::new(handler), acked.clone()).expect("valid");

    let (task, published) = publisher(&pubsub, 1_000, 5);
    // In flight at most: 10 in the subscription; 5 (max_demand) per processor, held or in
    // full batches it waits to hand on; 4 in the batcher's partial batch and 4 more in a
    // partial one its timeout flushed; BATCHES_QUEUED batches queued for the batch processor
    // and 1 in handle_batch.
    let bound = 10 + 10 + 8 + (crate::pipeline::topology::BATCHES_QUEUED as u64 + 1) * 5;
    let samples = hold_within(&pipeline, &task, &published, &acked.0, 10, bound).await;
    assert!(samples > 10, "sampled only {samples} times");
    let took = task.await.expect("publisher");
    // At least (1000 - bound) / 5 batches of 2 ms had to be handled before the last publish.
    let least = Duration::from_millis((1_000 - bound) / 5 * 2);
    assert!(took >= least, "the publisher was not held back: done in {took:?} < {least:?}");

    pubsub.close();
    tokio::time::timeout(WAIT, pipeline.finished()).await.expect("ends");
    assert_eq!(acked.0.load(Ordering::SeqCst), 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropping_subscription_never_blocks_the_publisher_and_counts_every_loss() {
    let pubsub = PubSub::<u64>::new();
    let lost = Arc::new(AtomicU64::new(0));
    let subscribe =
        SubscribeConfig { lost: lost.clone(), ..SubscribeConfig::with_overflow(8, Overflow::DropNewest) };
    let producer = PubSubProducer::subscribe(&pubsub, &["events"], subscribe).expect("valid topics");
    let gate = Arc::new(Gate::default());
    let handler = Script::new().message({
        let gate = gate.clone();
        move |_| gate.pass()
    });
    let acked = Arc::new(Count::default());
    let pipeline =
        Pipeline::start(config(1, 4, vec![]), producer, Arc::new(handler), acked.clone()).expect("valid");

    // The pipeline is stuck on its first message: every publish still completes.
    let publish_all = async {
        let mut dropped = 0;
        for first in (0..500).step_by(50) {
            dropped += pubsub.publish("events", (first..first + 50).collect()).await.expect("open").dropped;
        }
        dropped
    };
    let dropped =
        tokio::time::timeout(WAIT, publish_all).await.expect("a dropping subscription never blocks");
    // Held at most: 8 in the subscription, and one delivery of 8 taken by the producer (of
    // which the processor pulled 4).
    assert!(dropped >= 500 - 16, "{} messages got through a stuck pipeline", 500 - dropped);
    gate.open();

    pubsub.close();
    tokio::time::timeout(WAIT, pipeline.finished()).await.expect("ends");
    assert_eq!(lost.load(Ordering::SeqCst), dropped);
    assert_eq!(acked.0.load(Ordering::SeqCst) + dropped, 500, "every message is acked or counted lost");
}
