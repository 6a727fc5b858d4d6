//! Producers and demand: a producer only hands out what a processor asked for, processors ask
//! again before they run dry, and the shipped producers (pub/sub, generator) feed a pipeline
//! and end it when their source ends.

use super::*;
use crate::pipeline::testing::TestProducer;
use crate::pipeline::{GenerateProducer, Pipeline, Producer, PubSubProducer};
use crate::pubsub::{PubSub, SubscribeConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An endless supply (up to `limit`) handing out at most `chunk` messages per call, recording
/// every call as (demand, handed out).
struct Counting {
    next: u64,
    limit: u64,
    chunk: usize,
    calls: Arc<Mutex<Vec<(usize, usize)>>>,
    handed: Arc<AtomicU64>,
}

impl Counting {
    fn new(limit: u64, chunk: usize) -> Self {
        Self { next: 0, limit, chunk, calls: Arc::default(), handed: Arc::default() }
    }
}

impl Producer for Counting {
    type Data = u64;

    fn poll_produce(
        &mut self,
        _cx: &mut std::task::Context<'_>,
        demand: usize,
    ) -> std::task::Poll<Option<Vec<Message<u64>>>> {
        let n = demand.min(self.chunk).min((self.limit - self.next) as usize);
        if n == 0 {
            return std::task::Poll::Ready(None);
        }
        let now = std::time::Instant::now();
        let messages: Vec<_> = (self.next..self.next + n as u64).map(|d| Message::new(d, now)).collect();
        self.next += n as u64;
        self.calls.lock().expect("lock").push((demand, messages.len()));
        self.handed.fetch_add(n as u64, Ordering::SeqCst);
        std::task::Poll::Ready(Some(messages))
    }

    fn drain(&mut self) {
        self.limit = self.next;
    }

    fn describe(&self) -> String {
        "counting".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_asks_for_at_most_max_demand_and_no_processor_gets_more() {
    let producer = Counting::new(2_000, 5);
    let (calls, handed) = (producer.calls.clone(), producer.handed.clone());
    let groups = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new().prepare({
        let groups = groups.clone();
        move |ms| groups.lock().expect("lock").push(ms.len())
    });
    let recorder = Arc::new(Recorder::default());
    let batchers = vec![batcher("default", 10, Duration::from_millis(5))];
    let pipeline = Pipeline::start(config(3, 7, batchers), producer, Arc::new(handler), recorder.clone())
        .expect("valid");
    tokio::time::timeout(WAIT, pipeline.finished()).await.expect("the producer ends the pipeline");

    let calls = calls.lock().expect("lock").clone();
    assert!(!calls.is_empty());
    for &(demand, got) in &calls {
        assert!((1..=7).contains(&demand), "asked for {demand}, max_demand is 7");
        assert!(got <= demand, "handed out {got} for a demand of {demand}");
    }
    assert_eq!(handed.load(Ordering::SeqCst), 2_000);
    let groups = groups.lock().expect("lock").clone();
    assert!(groups.iter().all(|&n| (1..=7).contains(&n)), "a processor got more than it asked: {groups:?}");
    assert_eq!(groups.iter().sum::<usize>(), 2_000);
    assert_eq!(recorder.all().len(), 2_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processor_asks_again_once_it_holds_min_demand_or_fewer_before_it_runs_dry() {
    // One processor, max_demand 10, min_demand 5: it handles chunks of at most 10 - 5.
    let producer = Counting::new(1_000, usize::MAX);
    let (calls, handed) = (producer.calls.clone(), producer.handed.clone());
    let (first, sixth) = (Arc::new(Gate::default()), Arc::new(Gate::default()));
    let groups = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new()
        .prepare({
            let groups = groups.clone();
            move |ms| groups.lock().expect("lock").push(data_of(ms))
        })
        .message({
            let (first, sixth) = (first.clone(), sixth.clone());
            move |m| match m.data {
                0 => first.pass(),
                5 => sixth.pass(),
                _ => {}
            }
        });
    let mut cfg = config(1, 10, vec![]);
    cfg.processors.min_demand = Some(5);
    let recorder = Arc::new(Recorder::default());
    let pipeline = Pipeline::start(cfg, producer, Arc::new(handler), recorder.clone()).expect("valid");

    // It asked for 10 and handles the first 5 while holding the other 5: no more than that.
    // Only processors pull, and the only one is held in the handler: what it was handed is
    // final until the gate opens (and `calls` below shows every pull there was).
    eventually("message 0 to reach the handler", || first.held() == 1).await;
    assert_eq!(handed.load(Ordering::SeqCst), 10, "holds at most max_demand");

    // Done with 0..5 it holds 5, at min_demand: it asks for 5 more before handling 5..10.
    first.open();
    eventually("message 5 to reach the handler", || sixth.held() == 1).await;
    assert_eq!(handed.load(Ordering::SeqCst), 15, "asked again before running dry, for max - held");
    assert_eq!(*calls.lock().expect("lock"), vec![(10, 10), (5, 5)]);
    assert_eq!(*groups.lock().expect("lock"), vec![(0..5).collect::<Vec<_>>(), (5..10).collect()]);

    sixth.open();
    pipeline.stop(WAIT).await.expect("drains");
    assert_eq!(recorder.all().len() as u64, handed.load(Ordering::SeqCst));
    let groups = groups.lock().expect("lock");
    assert!(groups.iter().all(|g| g.len() <= 5), "chunks of at most max - min: {groups:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pubsub_producer_takes_every_topic_it_subscribed_to_and_ends_when_the_hub_closes() {
    let pubsub = PubSub::<u64>::new();
    let producer =
        PubSubProducer::subscribe(&pubsub, &["sensors.a", "sensors.b"], SubscribeConfig::blocking(16))
            .expect("valid topics");
    let recorder = Arc::new(Recorder::default());
    let batchers = vec![batcher("default", 10, Duration::from_millis(5))];
    let pipeline =
        Pipeline::start(config(2, 10, batchers), producer, Arc::new(Script::new()), recorder.clone())
            .expect("valid");
    assert_eq!(pipeline.topology().producer, "pub/sub: sensors.a, sensors.b");
    assert_eq!((pubsub.subscriber_count("sensors.a"), pubsub.subscriber_count("sensors.b")), (1, 1));

    let a = pubsub.publish("sensors.a", (0..50).collect());
    let b = pubsub.publish("sensors.b", (100..150).collect());
    let (a, b) = tokio::time::timeout(WAIT, async { tokio::join!(a, b) }).await.expect("published");
    assert_eq!((a.expect("open").subscribers, b.expect("open").subscribers), (1, 1));
    let elsewhere = pubsub.publish("sensors.c", vec![999]).await.expect("open");
    assert_eq!(elsewhere.subscribers, 0, "topics not subscribed to reach nobody");

    pubsub.close();
    tokio::time::timeout(WAIT, pipeline.finished()).await.expect("closing the hub ends the pipeline");
    let mut data: Vec<u64> = recorder.all().iter().map(|a| a.data).collect();
    data.sort_unstable();
    assert_eq!(data, (0..50).chain(100..150).collect::<Vec<_>>(), "each message of both topics, once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generate_producer_that_runs_out_ends_the_pipeline_and_flushes_the_last_batch() {
    let mut next = 0u64;
    let producer = GenerateProducer::new("generator", 1_000, move || {
        next += 1;
        next - 1
    });
    let triggers = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new().batch({
        let triggers = triggers.clone();
        move |batch, info| triggers.lock().expect("lock").push((batch.len(), info.trigger))
    });
    let recorder = Arc::new(Recorder::default());
    let batchers = vec![batcher("default", 300, WAIT)];
    let pipeline = Pipeline::start(config(2, 10, batchers), producer, Arc::new(handler), recorder.clone())
        .expect("valid");
    assert_eq!(pipeline.topology().producer, "generator");
    tokio::time::timeout(WAIT, pipeline.finished()).await.expect("the generator ends the pipeline");
    assert!(pipeline.is_finished());

    let mut data: Vec<u64> = recorder.all().iter().map(|a| a.data).collect();
    data.sort_unstable();
    assert_eq!(data, (0..1_000).collect::<Vec<_>>());
    let triggers = triggers.lock().expect("lock").clone();
    use BatchTrigger::{Drain, Size};
    assert_eq!(triggers, vec![(300, Size), (300, Size), (300, Size), (100, Drain)]);
}

#[tokio::test]
async fn a_test_producer_hands_out_what_was_pushed_and_refuses_pushes_once_drained() {
    let (producer, feed) = TestProducer::new();
    let recorder = Arc::new(Recorder::default());
    let pipeline =
        Pipeline::start(config(1, 10, vec![]), producer, Arc::new(Script::new()), recorder.clone())
            .expect("valid");
    assert!(feed.push_messages(tagged(0..25)));
    pipeline.stop(WAIT).await.expect("drains");
    acked_once(&recorder, 0..25);
    assert!(!feed.push(vec![99]), "a drained test producer takes no more");
}
