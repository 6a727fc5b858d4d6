//! Delivery: to the topic's subscribers only, fan-out, chunks split to fit, blocking, close.

use super::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[tokio::test]
async fn delivers_a_chunk_to_its_topic_only() {
    let ps = hub();
    let mut a = sub(&ps, "events", SubscribeConfig::blocking(10));
    let mut other = sub(&ps, "other", SubscribeConfig::blocking(10));
    let report = ps.publish("events", vec![1, 2, 3]).await.expect("open");
    assert_eq!(report, Published { subscribers: 1, dropped: 0 });
    assert_eq!(a.recv().await.expect("chunk").items, vec![1, 2, 3]);
    assert!(other.try_recv().is_none());
}

#[tokio::test]
async fn every_subscriber_gets_every_message() {
    let ps = hub();
    let mut a = sub(&ps, "t", SubscribeConfig::blocking(10));
    let mut b = sub(&ps, "t", SubscribeConfig::blocking(10));
    ps.publish("t", vec![7, 8]).await.expect("open");
    assert_eq!(a.recv().await.expect("a").items, vec![7, 8]);
    assert_eq!(b.recv().await.expect("b").items, vec![7, 8]);
}

#[tokio::test]
async fn publishing_without_subscribers_reaches_nobody() {
    let report = hub().publish("empty", vec![1]).await.expect("open");
    assert_eq!(report.subscribers, 0);
}

#[tokio::test]
async fn large_publish_is_split_to_fit_the_buffer() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(4));
    let publisher = tokio::spawn({
        let ps = ps.clone();
        async move { ps.publish("t", (0..10).collect()).await }
    });
    let mut got = Vec::new();
    while got.len() < 10 {
        let d = s.recv().await.expect("chunk");
        assert!(d.items.len() <= 4, "chunk of {} exceeds the buffer", d.items.len());
        got.extend(d.items);
    }
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    assert_eq!(publisher.await.expect("join").expect("open").dropped, 0);
}

#[tokio::test(start_paused = true)]
async fn blocking_subscriber_holds_the_publisher_back() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(2));
    ps.publish("t", vec![1, 2]).await.expect("open");
    let blocked = tokio::spawn({
        let ps = ps.clone();
        async move { ps.publish("t", vec![3]).await }
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!blocked.is_finished(), "publisher should wait for room");
    assert_eq!(s.recv().await.expect("first").items, vec![1, 2]);
    assert_eq!(blocked.await.expect("join").expect("open").dropped, 0);
    assert_eq!(s.recv().await.expect("second").items, vec![3]);
}

#[tokio::test]
async fn drop_newest_counts_what_does_not_fit() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::with_overflow(3, Overflow::DropNewest));
    let report = ps.publish("t", vec![1, 2, 3, 4, 5]).await.expect("open");
    assert_eq!(report.dropped, 2);
    assert_eq!(s.lost(), 2);
    assert_eq!(s.recv().await.expect("chunk").items, vec![1, 2, 3]);
    assert_eq!(ps.publish("t", vec![6]).await.expect("open").dropped, 0);
}

#[tokio::test]
async fn dropping_a_subscription_counts_its_undelivered_messages_and_unsubscribes() {
    let ps = hub();
    let config = SubscribeConfig::blocking(10);
    let lost = config.lost.clone();
    let s = sub(&ps, "t", config);
    ps.publish("t", vec![1, 2]).await.expect("open");
    drop(s);
    assert_eq!(lost.load(Ordering::Relaxed), 2);
    assert_eq!(ps.subscriber_count("t"), 0);
    assert_eq!(ps.publish("t", vec![3]).await.expect("open").subscribers, 0);
}

#[tokio::test]
async fn close_refuses_publishes_and_ends_streams_after_the_buffer() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(10));
    ps.publish("t", vec![1]).await.expect("open");
    ps.close();
    assert_eq!(ps.publish("t", vec![2]).await, Err(PubSubError::Closed));
    assert_eq!(s.recv().await.expect("buffered").items, vec![1]);
    assert!(s.recv().await.is_none());
}

#[tokio::test]
async fn a_waiting_receiver_is_woken_by_a_publish() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(10));
    let receiver = tokio::spawn(async move { s.recv().await.map(|d| d.items) });
    tokio::task::yield_now().await;
    ps.broadcast("t", vec![5]).await.expect("open");
    assert_eq!(receiver.await.expect("join"), Some(vec![5]));
}

#[tokio::test]
async fn a_closed_subscription_keeps_its_buffer_and_is_gone_for_publishers() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(10));
    ps.broadcast("t", vec![1, 2]).await.expect("open");
    s.close();
    let after = ps.broadcast("t", vec![3]).await.expect("open");
    assert_eq!(after, Published { subscribers: 0, dropped: 0 });
    assert_eq!(ps.subscriber_count("t"), 0);
    assert_eq!(s.recv().await.expect("buffered").items, vec![1, 2]);
    assert!(s.recv().await.is_none(), "closed and drained: the stream ends");
    assert_eq!(s.lost(), 0);
}

#[tokio::test(start_paused = true)]
async fn closing_counts_the_messages_of_a_blocked_publisher_as_lost() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(2));
    ps.broadcast("t", vec![1, 2]).await.expect("open");
    let blocked = tokio::spawn({
        let ps = ps.clone();
        async move { ps.broadcast("t", vec![3, 4]).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!blocked.is_finished(), "publisher waits for room");
    s.close();
    assert_eq!(blocked.await.expect("join").expect("open").dropped, 2);
    assert_eq!(s.lost(), 2);
    assert_eq!(s.recv().await.expect("buffered").items, vec![1, 2]);
    assert!(s.recv().await.is_none());
}

#[tokio::test]
async fn the_shared_lost_counter_sees_what_the_subscription_lost() {
    let ps = hub();
    let config = SubscribeConfig::with_overflow(1, Overflow::DropNewest);
    let shared = config.lost.clone();
    let s = sub(&ps, "t", config);
    ps.broadcast("t", vec![1, 2, 3]).await.expect("open");
    assert_eq!((s.lost(), shared.load(Ordering::Relaxed)), (2, 2));
    drop(s);
    assert_eq!(shared.load(Ordering::Relaxed), 3, "the buffered one is lost with the subscription");
}
