//! Processors: `concurrency` of them really run side by side, and `prepare_messages` sees the
//! whole group a processor received before `handle_message` runs on each message of it.

use super::*;
use crate::pipeline::testing::TestPipeline;
use std::sync::Arc;

/// Handlers meet here: each waits until `expected` are inside at once (or one gave up).
#[derive(Default)]
struct Rendezvous {
    /// (inside now, most inside at once, someone gave up waiting)
    state: Mutex<(usize, usize, bool)>,
    changed: Condvar,
}

impl Rendezvous {
    fn meet(&self, expected: usize) {
        tokio::task::block_in_place(|| {
            let mut s = self.state.lock().expect("lock");
            s.0 += 1;
            s.1 = s.1.max(s.0);
            self.changed.notify_all();
            let (mut s, waited) = self
                .changed
                .wait_timeout_while(s, Duration::from_secs(2), |s| s.1 < expected && !s.2)
                .expect("lock");
            if waited.timed_out() {
                s.2 = true; // the others need not wait out their timeouts too
                self.changed.notify_all();
            }
            s.0 -= 1;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_four_runs_four_handle_message_calls_at_once() {
    let rendezvous = Arc::new(Rendezvous::default());
    let handler = Script::new().message({
        let rendezvous = rendezvous.clone();
        move |_| rendezvous.meet(4)
    });
    let tp = TestPipeline::start(config(4, 1, vec![]), handler).expect("valid");
    let acks = tp.test_batch((0..16).collect()).await;
    assert!(acks.iter().all(|a| a.is_ok()));
    let (_, peak, gave_up) = *rendezvous.state.lock().expect("lock");
    assert_eq!(peak, 4, "most handle_message calls running at once");
    assert!(!gave_up, "a handler waited 2 s for the other processors");
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_handle_message_calls_at_once_than_processors() {
    let rendezvous = Arc::new(Rendezvous::default());
    let handler = Script::new().message({
        let rendezvous = rendezvous.clone();
        move |_| rendezvous.meet(2)
    });
    let tp = TestPipeline::start(config(2, 3, vec![]), handler).expect("valid");
    tp.test_batch((0..30).collect()).await;
    let (_, peak, gave_up) = *rendezvous.state.lock().expect("lock");
    assert_eq!((peak, gave_up), (2, false));
    tp.pipeline.stop(WAIT).await.expect("drains");
}

/// What the handler saw, in order.
#[derive(Debug, PartialEq)]
enum Call {
    Prepare(Vec<u64>),
    Handle(u64),
}

#[tokio::test]
async fn prepare_messages_sees_the_whole_group_before_handle_message() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new()
        .prepare({
            let calls = calls.clone();
            move |ms| {
                calls.lock().expect("lock").push(Call::Prepare(data_of(ms)));
                ms.iter_mut().for_each(|m| m.data += 100); // pre-loaded for the group
            }
        })
        .message({
            let calls = calls.clone();
            move |m| calls.lock().expect("lock").push(Call::Handle(m.data))
        });
    let tp = TestPipeline::start(config(1, 10, vec![]), handler).expect("valid");
    let acks = tp.test_batch(vec![0, 1, 2, 3, 4]).await;
    assert_eq!(acks.iter().map(|a| a.data).collect::<Vec<_>>(), vec![100, 101, 102, 103, 104]);
    let expected = [Call::Prepare(vec![0, 1, 2, 3, 4])].into_iter().chain((100..105).map(Call::Handle));
    assert_eq!(*calls.lock().expect("lock"), expected.collect::<Vec<_>>());
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test]
async fn every_message_is_handled_after_the_prepare_of_its_own_group() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new()
        .prepare({
            let calls = calls.clone();
            move |ms| calls.lock().expect("lock").push(Call::Prepare(data_of(ms)))
        })
        .message({
            let calls = calls.clone();
            move |m| calls.lock().expect("lock").push(Call::Handle(m.data))
        });
    let tp = TestPipeline::start(config(1, 10, vec![]), handler).expect("valid");
    tp.test_batch((0..57).collect()).await;
    tp.pipeline.stop(WAIT).await.expect("drains");
    let calls = calls.lock().expect("lock");
    let mut group: &[u64] = &[];
    let mut handled = Vec::new();
    for call in calls.iter() {
        match call {
            Call::Prepare(g) => {
                assert!(g.len() <= 10, "a group larger than max_demand: {g:?}");
                group = g;
            }
            Call::Handle(d) => {
                assert!(group.contains(d), "{d} handled outside its prepared group {group:?}");
                handled.push(*d);
            }
        }
    }
    assert_eq!(handled, (0..57).collect::<Vec<_>>(), "each message handled once, in order");
}

#[tokio::test]
async fn a_panic_in_prepare_messages_fails_the_whole_group_and_the_processor_goes_on() {
    let handled = Arc::new(Mutex::new(Vec::new()));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let handler = Script::new()
        .prepare(|ms| assert!(!ms.iter().any(|m| m.data == 2), "bad group"))
        .message({
            let handled = handled.clone();
            move |m| handled.lock().expect("lock").push(m.data)
        })
        .failed({
            let failed = failed.clone();
            move |ms| failed.lock().expect("lock").extend(data_of(ms))
        });
    let tp = TestPipeline::start(config(1, 10, vec![]), handler).expect("valid");
    let acks = tp.test_batch(vec![1, 2, 3]).await;
    for a in &acks {
        let (kind, reason) = failure(&a.status).expect("the whole group fails");
        assert_eq!(kind, "panic");
        assert!(reason.contains("prepare_messages") && reason.contains("bad group"), "reason: {reason}");
    }
    assert!(handled.lock().expect("lock").is_empty(), "handle_message does not run on a failed group");
    assert_eq!(*failed.lock().expect("lock"), vec![1, 2, 3], "handle_failed saw the group");

    let acks = tp.test_batch(vec![4, 5]).await;
    assert!(acks.iter().all(|a| a.is_ok()), "the next group is fine: {acks:?}");
    assert_eq!(*handled.lock().expect("lock"), vec![4, 5]);
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test]
async fn with_a_producer_that_is_always_ready_every_processor_still_gets_work() {
    let events = Arc::new(Events::default());
    let mut next = 0u64;
    let producer = crate::pipeline::GenerateProducer::new("generator", 2_000, move || {
        next += 1;
        next
    });
    let recorder = Arc::new(Recorder::default());
    let cfg = events.observe(config(2, 10, vec![]));
    let pipeline = crate::pipeline::Pipeline::start(cfg, producer, Arc::new(Script::new()), recorder.clone())
        .expect("valid");
    tokio::time::timeout(WAIT, pipeline.finished()).await.expect("the generator ends the pipeline");
    let mut per_processor = [0usize; 2];
    for (p, n) in events.pick(|e| match e {
        Seen::ProcessorStarted { processor, messages } => Some((*processor, *messages)),
        _ => None,
    }) {
        per_processor[p] += n;
    }
    assert_eq!(per_processor.iter().sum::<usize>(), 2_000);
    assert!(per_processor.iter().all(|&n| n >= 200), "a processor was starved: {per_processor:?}");
}
