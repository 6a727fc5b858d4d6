//! A message's data, metadata, status and routing, as the acknowledger finally sees them.

use super::*;
use crate::pipeline::testing::TestPipeline;
use crate::pipeline::{Acknowledger, Metadata, Status};
use std::sync::Arc;

/// Keeps the metadata and status of every message it is told about.
#[derive(Default)]
struct MetadataLog {
    acked: Mutex<Vec<(u64, Metadata, Status)>>,
}

impl Acknowledger<u64> for MetadataLog {
    fn ack(&self, successful: &[Message<u64>], failed: &[Message<u64>]) {
        let mut acked = self.acked.lock().expect("lock");
        acked.extend(successful.iter().chain(failed).map(|m| (m.data, m.metadata.clone(), m.status.clone())));
    }
}

#[tokio::test]
async fn metadata_from_the_producer_and_the_handler_reaches_the_acknowledger() {
    let (producer, feed) = crate::pipeline::testing::TestProducer::new();
    let log = Arc::new(MetadataLog::default());
    let handler = Script::new().message(|m| {
        let topic = m.metadata.get("topic").unwrap_or("none").to_owned();
        m.metadata.insert("seen", format!("{topic}/{}", m.data));
        if m.data == 2 {
            m.fail("two", "no twos");
        }
    });
    let pipeline = crate::pipeline::Pipeline::start(
        config(1, 10, vec![batcher("default", 10, Duration::from_secs(10))]),
        producer,
        Arc::new(handler),
        log.clone(),
    )
    .expect("valid config");
    let mut messages = tagged([1, 2, 3]);
    for m in &mut messages {
        m.metadata.insert("topic", "sensors.a");
    }
    assert!(feed.push_messages(messages));
    pipeline.stop(WAIT).await.expect("drains");

    let mut acked = log.acked.lock().expect("lock").clone();
    acked.sort_by_key(|(d, _, _)| *d);
    assert_eq!(acked.len(), 3);
    for (d, metadata, status) in &acked {
        assert_eq!(metadata.get(TEST_REF), Some(r(*d).as_str()), "producer metadata kept");
        assert_eq!(metadata.get("topic"), Some("sensors.a"));
        assert_eq!(metadata.get("seen"), Some(format!("sensors.a/{d}").as_str()), "handler metadata kept");
        let expected = if *d == 2 { Some(("two", "no twos")) } else { None };
        assert_eq!(failure(status), expected, "message {d}");
    }
}

#[tokio::test]
async fn put_batcher_and_put_batch_key_show_up_in_the_acks() {
    let batchers =
        vec![batcher("even", 4, Duration::from_millis(20)), batcher("odd", 4, Duration::from_millis(20))];
    let tp = TestPipeline::start(
        config(2, 5, batchers),
        Script::new().message(|m| {
            let name = if m.data % 2 == 0 { "even" } else { "odd" };
            route(m, name, format!("k{}", (m.data / 2) % 3));
        }),
    )
    .expect("valid config");
    let acks = tp.test_batch((0..24).collect()).await;
    for (d, a) in (0u64..24).zip(&acks) {
        assert!(a.is_ok(), "message {d}: {a:?}");
        assert_eq!(a.batcher, if d % 2 == 0 { "even" } else { "odd" }, "message {d}");
        assert_eq!(a.batch_key, format!("k{}", (d / 2) % 3), "message {d}");
    }
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[tokio::test]
async fn the_transformed_data_and_the_failure_reach_the_acknowledger() {
    let tp = TestPipeline::start(
        config(1, 10, vec![]),
        Script::new().message(|m| {
            m.data *= 10;
            if m.data == 30 {
                m.fail("thirty", format!("{} is thirty", m.data));
            }
        }),
    )
    .expect("valid config");
    let acks = tp.test_batch(vec![1, 2, 3]).await;
    assert_eq!(acks.iter().map(|a| a.data).collect::<Vec<_>>(), vec![10, 20, 30]);
    assert_eq!(failure(&acks[2].status), Some(("thirty", "30 is thirty")));
    assert!(acks[0].is_ok() && acks[1].is_ok());
    assert_eq!((acks[0].batcher, acks[0].batch_key.as_str()), ("default", "default"));
    tp.pipeline.stop(WAIT).await.expect("drains");
}
