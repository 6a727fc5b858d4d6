//! The Phoenix.PubSub surface: ids, unsubscribe (by id and by drop), broadcast_from,
//! local_broadcast.

use super::*;

#[tokio::test]
async fn broadcast_from_skips_only_the_sender() {
    let ps = hub();
    let mut sender = sub(&ps, "room", SubscribeConfig::blocking(10));
    let mut a = sub(&ps, "room", SubscribeConfig::blocking(10));
    let mut b = sub(&ps, "room.>", SubscribeConfig::blocking(10));
    let mut c = sub(&ps, "*", SubscribeConfig::blocking(10));
    let report = ps.broadcast_from(sender.id(), "room", vec![1]).await.expect("open");
    assert_eq!(report.subscribers, 2);
    assert_eq!(drain(&mut sender), Vec::<u32>::new());
    assert_eq!((drain(&mut a), drain(&mut c)), (vec![1], vec![1]));
    assert_eq!(drain(&mut b), Vec::<u32>::new(), "room.> does not match room");
    // A sender that is not subscribed to the topic changes nothing.
    ps.broadcast_from(b.id(), "room", vec![2]).await.expect("open");
    assert_eq!((drain(&mut sender), drain(&mut a), drain(&mut c)), (vec![2], vec![2], vec![2]));
}

#[tokio::test]
async fn ids_are_distinct_and_shown_in_the_stats() {
    let ps = hub();
    let a = sub(&ps, "t", SubscribeConfig::blocking(1));
    let b = sub(&ps, "t", SubscribeConfig::blocking(1));
    assert_ne!(a.id(), b.id());
    let ids: Vec<u64> = ps.stats().subscribers.iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![a.id().get(), b.id().get()]);
}

#[tokio::test]
async fn unsubscribe_by_id_ends_the_stream_after_what_was_buffered() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(10));
    let mut other = sub(&ps, "t", SubscribeConfig::blocking(10));
    ps.broadcast("t", vec![1]).await.expect("open");
    assert!(ps.unsubscribe(s.id()));
    assert!(!ps.unsubscribe(s.id()), "already gone");
    assert_eq!(ps.broadcast("t", vec![2]).await.expect("open").subscribers, 1);
    assert_eq!(s.recv().await.expect("buffered").items, vec![1]);
    assert!(s.recv().await.is_none(), "unsubscribed: nothing more comes");
    assert_eq!(drain(&mut other), vec![1, 2]);
    assert_eq!(ps.subscriber_count("t"), 1);
    assert_eq!(ps.stats().subscribers.len(), 1);
}

#[tokio::test]
async fn dropping_a_subscription_unsubscribes_at_once() {
    let ps = hub();
    let s = sub(&ps, "sensors.*", SubscribeConfig::blocking(10));
    ps.broadcast("sensors.a", vec![1]).await.expect("open");
    drop(s);
    assert!(ps.stats().subscribers.is_empty(), "gone from the stats without waiting for a publish");
    assert_eq!(ps.subscriber_count("sensors.a"), 0);
    assert_eq!(ps.broadcast("sensors.a", vec![2]).await.expect("open").subscribers, 0);
}

#[tokio::test]
async fn local_broadcast_reaches_this_nodes_subscribers() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(10));
    assert_eq!(ps.local_broadcast("t", vec![1, 2]).await.expect("open").subscribers, 1);
    assert_eq!(drain(&mut s), vec![1, 2]);
    ps.close();
    assert_eq!(ps.local_broadcast("t", vec![3]).await, Err(PubSubError::Closed));
}

#[tokio::test]
async fn subscribing_to_a_closed_hub_gives_an_ended_subscription() {
    let ps = hub();
    ps.close();
    let mut s = sub(&ps, "t", SubscribeConfig::blocking(10));
    assert!(s.recv().await.is_none());
    assert!(ps.stats().subscribers.is_empty());
}
