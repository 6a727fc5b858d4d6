//! Shutdown: `stop` drains (intake stops, what the producer buffered is handled, partial
//! batches are flushed with `Drain`, everything is acknowledged, every stage ends); a drain
//! that cannot finish in time fails what is left as `"shutdown timeout"` and says how much.

use super::*;
use crate::pipeline::testing::TestPipeline;
use crate::pipeline::{Pipeline, PipelineError, Producer, PubSubProducer};
use crate::pubsub::{PubSub, SubscribeConfig};
use std::collections::VecDeque;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_handles_everything_buffered_flushes_partial_batches_and_ends() {
    let triggers = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new().message(|m| route(m, "default", format!("k{}", m.data % 3))).batch({
        let triggers = triggers.clone();
        move |batch, info| {
            triggers.lock().expect("lock").push((info.batch_key.to_owned(), batch.len(), info.trigger))
        }
    });
    let tp = TestPipeline::start(config(2, 10, vec![batcher("default", 100, WAIT)]), handler).expect("valid");
    for c in 0..10 {
        assert!(tp.feed.push_messages(tagged(c * 100..c * 100 + 100)));
    }
    tp.pipeline.stop(WAIT).await.expect("drains in time");
    assert!(tp.pipeline.is_finished());
    assert!(acked_once(&tp.recorder, 0..1_000).iter().all(|a| a.is_ok()));
    assert!(!tp.feed.push(vec![1]), "a drained pipeline takes no new work");

    let mut triggers = triggers.lock().expect("lock").clone();
    triggers.sort_by(|a, b| (&a.0, a.2 == BatchTrigger::Drain).cmp(&(&b.0, b.2 == BatchTrigger::Drain)));
    let mut expected = Vec::new();
    for (key, left) in [("k0", 34), ("k1", 33), ("k2", 33)] {
        expected.extend(std::iter::repeat_n((key.to_owned(), 100, BatchTrigger::Size), 3));
        expected.push((key.to_owned(), left, BatchTrigger::Drain));
    }
    assert_eq!(triggers, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_closes_the_subscription_so_later_publishes_reach_nobody() {
    let pubsub = PubSub::<u64>::new();
    let producer = PubSubProducer::subscribe(&pubsub, &["events"], SubscribeConfig::blocking(100))
        .expect("valid topics");
    let recorder = Arc::new(Recorder::default());
    let batchers = vec![batcher("default", 30, WAIT)];
    let pipeline =
        Pipeline::start(config(2, 10, batchers), producer, Arc::new(Script::new()), recorder.clone())
            .expect("valid");
    pubsub.publish("events", (0..50).collect()).await.expect("open");
    pipeline.stop(WAIT).await.expect("drains");
    assert_eq!(recorder.all().len(), 50, "what was buffered is handled");
    assert_eq!(pubsub.subscriber_count("events"), 0);
    assert_eq!(pubsub.publish("events", vec![1]).await.expect("open").subscribers, 0);
    let refused = pipeline.kill(StageId::Processor(0));
    assert!(matches!(refused, Err(PipelineError::NoSuchStage(_))), "{refused:?}");
}

/// A source that hands out its messages except the last `withheld`, never ends (not even
/// when drained), and gives everything it still has back when abandoned.
struct Stubborn {
    buffer: VecDeque<Message<u64>>,
    withheld: usize,
}

impl Stubborn {
    fn new(messages: Vec<Message<u64>>, withheld: usize) -> Self {
        Self { buffer: messages.into(), withheld }
    }
}

impl Producer for Stubborn {
    type Data = u64;

    fn poll_produce(
        &mut self,
        _cx: &mut std::task::Context<'_>,
        demand: usize,
    ) -> std::task::Poll<Option<Vec<Message<u64>>>> {
        // Never finishes: what it withholds is never handed out, even when drained.
        let n = demand.min(self.buffer.len().saturating_sub(self.withheld));
        if n == 0 {
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(Some(self.buffer.drain(..n).collect()))
    }

    fn abandon(&mut self) -> Vec<Message<u64>> {
        self.buffer.drain(..).collect()
    }

    fn describe(&self) -> String {
        "stubborn".into()
    }
}

/// Starts `handler` fed by a [`Stubborn`] source of `0..n` that withholds `withheld`, with
/// one batcher of `batch_size` that never times out.
fn stubborn(
    n: u64,
    withheld: usize,
    batch_size: usize,
    handler: Script,
) -> (Pipeline, Arc<Recorder<u64>>, Arc<Events>) {
    let recorder = Arc::new(Recorder::default());
    let events = Arc::new(Events::default());
    let cfg = events.observe(config(2, 10, vec![batcher("default", batch_size, Duration::from_secs(3_600))]));
    let source = Stubborn::new(tagged(0..n), withheld);
    let pipeline = Pipeline::start(cfg, source, Arc::new(handler), recorder.clone()).expect("valid");
    (pipeline, recorder, events)
}

#[tokio::test(start_paused = true)]
async fn a_drain_that_cannot_finish_in_time_fails_the_partial_batch_as_shutdown_timeout() {
    let (pipeline, recorder, events) = stubborn(25, 0, 10, Script::new());
    all_acked(&recorder, 0..20).await;
    let timeout = Duration::from_millis(100);
    let started = tokio::time::Instant::now();
    let result = pipeline.stop(timeout).await;
    assert_eq!(result, Err(PipelineError::DrainTimeout { timeout, abandoned: 5 }));
    assert!(started.elapsed() >= timeout);
    assert!(pipeline.is_finished());
    for (d, a) in (0..25).zip(acked_once(&recorder, 0..25)) {
        assert_eq!(kind(&a), if d < 20 { "ok" } else { "shutdown timeout" }, "message {d}");
    }
    assert_eq!(events.all().last(), Some(&Seen::DrainFinished { abandoned: 5 }));
}

#[tokio::test(start_paused = true)]
async fn messages_abandoned_in_the_producer_are_acked_with_their_metadata() {
    let (pipeline, recorder, _) = stubborn(30, 10, 10, Script::new());
    all_acked(&recorder, 0..20).await;
    let result = pipeline.stop(Duration::from_millis(100)).await;
    assert!(matches!(result, Err(PipelineError::DrainTimeout { abandoned: 10, .. })), "{result:?}");
    for (d, a) in (20..30).zip(acked_once(&recorder, 20..30)) {
        assert_eq!(kind(&a), "shutdown timeout", "message {d}");
    }
}

#[tokio::test(start_paused = true)]
async fn messages_acked_immediately_are_not_counted_as_abandoned() {
    let (pipeline, recorder, _) = stubborn(25, 0, 10, Script::new().message(Message::ack_immediately));
    all_acked(&recorder, 0..25).await;
    let result = pipeline.stop(Duration::from_millis(100)).await;
    assert!(acked_once(&recorder, 0..25).iter().all(|a| a.is_ok()), "acked once, as successful");
    assert_eq!(
        result,
        Err(PipelineError::DrainTimeout { timeout: Duration::from_millis(100), abandoned: 0 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_timeout_fails_everything_blocked_stages_held_as_shutdown_timeout_and_counts_it() {
    // handle_batch is slow, so processors and the batcher are blocked handing messages on
    // when the drain times out.
    let handler = Script::new().batch(|_, _| std::thread::sleep(Duration::from_millis(20)));
    let (pipeline, recorder, events) = stubborn(500, 0, 5, handler);
    let flushed = || events.pick(|e| matches!(e, Seen::BatchFlushed { .. }).then_some(())).len();
    eventually("the batcher to be blocked", || flushed() >= 4).await;
    let result = pipeline.stop(Duration::from_millis(50)).await;
    let Err(PipelineError::DrainTimeout { abandoned, .. }) = result else { panic!("{result:?}") };

    // Counted over every acknowledgement, with a reference or not: what matters here is the
    // kind and the count.
    let acks = recorder.all();
    assert_eq!(acks.len(), 500, "every message is acknowledged");
    let failed: Vec<&'static str> = acks.iter().map(kind).filter(|k| *k != "ok").collect();
    let crashed = failed.iter().filter(|k| **k == "stage crashed").count();
    assert_eq!(crashed, 0, "failed as \"stage crashed\" at the timeout");
    assert_eq!(abandoned, failed.len() as u64, "every message failed at the timeout is counted");
}
