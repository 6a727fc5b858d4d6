//! Partitions (`partition_by`): one key's messages are handled by one processor at a time, in
//! publish order, even while the concurrency changes; a failure does not halt its partition.

use super::*;
use crate::pipeline::testing::TestPipeline;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Key of a message: data / 1000; its sequence within the key: data % 1000.
fn key(data: u64) -> u64 {
    data / 1000
}

/// Watches handle_message: fails if two messages of one key are inside at once, or if a key's
/// messages arrive out of order.
#[derive(Default)]
struct Order {
    inside: Mutex<HashSet<u64>>,
    last: Mutex<HashMap<u64, u64>>,
    violations: Mutex<Vec<String>>,
}

impl Order {
    fn handle(&self, data: u64) {
        let k = key(data);
        if !self.inside.lock().expect("lock").insert(k) {
            self.violations.lock().expect("lock").push(format!("key {k} handled twice at once"));
        }
        std::thread::sleep(Duration::from_micros(50));
        if let Some(prev) = self.last.lock().expect("lock").insert(k, data)
            && prev > data
        {
            self.violations.lock().expect("lock").push(format!("key {k}: {data} after {prev}"));
        }
        self.inside.lock().expect("lock").remove(&k);
    }
}

/// A handler partitioned by [`key`] whose every message passes `order`'s watch.
fn watched(order: &Arc<Order>) -> Script {
    let order = order.clone();
    Script::new().message(move |m| order.handle(m.data)).partition(|m| key(m.data))
}

fn partitioned(concurrency: usize) -> PipelineConfig {
    let mut cfg = config(concurrency, 4, vec![batcher("default", 50, Duration::from_millis(5))]);
    cfg.processors.partitioned = true;
    cfg
}

/// 8 keys × `per_key` messages, interleaved as a real stream would be.
fn stream(per_key: u64, from: u64) -> Vec<u64> {
    (from..from + per_key).flat_map(|seq| (0..8).map(move |k| k * 1000 + seq)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_is_handled_by_one_processor_at_a_time_in_order() {
    let order = Arc::new(Order::default());
    let handler = watched(&order);
    let t = TestPipeline::start(partitioned(4), handler).expect("valid");
    let acks = t.test_batch(stream(200, 0)).await;
    assert!(acks.iter().all(Acked::is_ok));
    assert_eq!(*order.violations.lock().expect("lock"), Vec::<String>::new());
    assert!(t.pipeline.stats().topology.processors.partitioned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_does_not_halt_its_partition() {
    let handler = Script::new()
        .message(|m| {
            if m.data == 3 {
                m.fail_permanently("invalid", "the third of key 0");
            }
        })
        .partition(|m| key(m.data));
    let t = TestPipeline::start(partitioned(2), handler).expect("valid");
    let acks = t.test_batch((0..10).collect()).await;
    let kinds: Vec<&str> = acks.iter().map(kind).collect();
    assert_eq!(kinds, ["ok", "ok", "ok", "invalid", "ok", "ok", "ok", "ok", "ok", "ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_concurrency_keeps_each_key_in_order() {
    let order = Arc::new(Order::default());
    let handler = watched(&order);
    let t = TestPipeline::start(partitioned(2), handler).expect("valid");
    let total = stream(300, 0);
    assert!(t.feed.push_messages(tagged(total.iter().copied())));
    for concurrency in [4, 1, 3, 2] {
        tokio::time::sleep(Duration::from_millis(20)).await;
        t.pipeline.set_concurrency(concurrency).expect("in range");
    }
    all_acked(&t.recorder, total.iter().copied()).await;
    acked_once(&t.recorder, total.iter().copied());
    assert_eq!(*order.violations.lock().expect("lock"), Vec::<String>::new());
    assert_eq!(t.pipeline.stats().topology.processors.concurrency, 2);
}
