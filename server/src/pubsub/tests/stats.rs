//! `PubSub::stats`: topics with subscriber counts and messages published, subscribers with
//! their buffers, deliveries and losses.

use super::*;
use crate::pubsub::{Overflow, SubscriberStats, TopicStats};

#[tokio::test]
async fn stats_show_topics_and_subscribers() {
    let ps = hub();
    let mut pipeline = sub(&ps, "events", SubscribeConfig::blocking(100).named("pipeline"));
    let _tap = ps
        .subscribe_many(
            &["sensors.*", "events"],
            SubscribeConfig::with_overflow(2, Overflow::DropOldest).named("tap"),
        )
        .expect("valid");
    ps.broadcast("events", vec![1, 2, 3]).await.expect("open");
    ps.broadcast("sensors.temp", vec![4]).await.expect("open");
    ps.broadcast("nobody", vec![5, 6]).await.expect("open");
    pipeline.recv().await.expect("chunk");
    ps.broadcast("events", vec![7]).await.expect("open");

    let stats = ps.stats();
    let topic =
        |name: &str, subscribers, published| TopicStats { topic: name.into(), subscribers, published };
    assert_eq!(stats.topics, vec![topic("events", 2, 4), topic("sensors.temp", 1, 1), topic(OTHER, 0, 2)]);
    assert_eq!(
        stats.subscribers[0],
        SubscriberStats {
            id: pipeline.id().get(),
            name: "pipeline".into(),
            patterns: vec!["events".into()],
            capacity: 100,
            buffered: 1,
            overflow: Overflow::Block,
            delivered: 3,
            lost: 0,
        }
    );
    let tap = &stats.subscribers[1];
    assert_eq!(
        (tap.name.as_str(), tap.patterns.clone()),
        ("tap", vec!["sensors.*".to_owned(), "events".into()])
    );
    assert_eq!((tap.capacity, tap.buffered, tap.overflow), (2, 2, Overflow::DropOldest));
    // 5 messages reached it: 2 are buffered, 3 were dropped to make room, none received yet.
    assert_eq!((tap.delivered, tap.lost), (0, 3));
}

#[tokio::test]
async fn an_exact_topic_is_listed_before_anything_is_published() {
    let ps = hub();
    let _s = sub(&ps, "quiet", SubscribeConfig::blocking(1));
    let _w = sub(&ps, "sensors.>", SubscribeConfig::blocking(1));
    let stats = ps.stats();
    assert_eq!(stats.topics, vec![TopicStats { topic: "quiet".into(), subscribers: 1, published: 0 }]);
    assert_eq!(stats.subscribers.len(), 2);
}
