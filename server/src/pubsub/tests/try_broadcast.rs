//! `try_broadcast`: never waits; all-or-nothing over blocking subscribers, also under
//! concurrent publishers.

use super::*;
use std::sync::atomic::{AtomicU64, Ordering};

#[tokio::test]
async fn a_full_blocking_subscriber_refuses_the_whole_publish_for_everyone() {
    let ps = hub();
    let mut roomy = sub(&ps, "t", SubscribeConfig::blocking(10));
    let mut tight = sub(&ps, "t", SubscribeConfig::blocking(3));
    let mut dropping = sub(&ps, "t", SubscribeConfig::with_overflow(10, Overflow::DropNewest));
    assert_eq!(ps.try_broadcast("t", vec![1, 2]).expect("fits"), Published { subscribers: 3, dropped: 0 });
    let refused = ps.try_broadcast("t", vec![3, 4]);
    assert_eq!(refused, Err(PubSubError::Full { topic: "t".into(), needed: 2, room: 1 }));
    assert_eq!(drain(&mut roomy), vec![1, 2], "nothing of the refused publish reached anyone");
    assert_eq!(drain(&mut dropping), vec![1, 2]);
    assert_eq!(drain(&mut tight), vec![1, 2]);
    // The refused reservation on `roomy` was given back: its whole buffer is free again.
    assert_eq!(ps.try_broadcast("t", vec![5, 6, 7]).expect("fits").subscribers, 3);
    assert_eq!(ps.stats().topics[0].published, 5, "a refused publish is not counted");
}

#[tokio::test]
async fn dropping_subscribers_follow_their_policy_and_never_refuse() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::with_overflow(2, Overflow::DropOldest));
    assert_eq!(ps.try_broadcast("t", vec![1, 2, 3]).expect("never full").dropped, 1);
    assert_eq!(drain(&mut s), vec![2, 3]);
}

#[tokio::test]
async fn a_publish_larger_than_a_blocking_buffer_is_refused() {
    let ps = hub();
    let _s = sub(&ps, "t", SubscribeConfig::blocking(4));
    assert_eq!(
        ps.try_broadcast("t", (0..5).collect()),
        Err(PubSubError::Full { topic: "t".into(), needed: 5, room: 4 })
    );
    assert_eq!(ps.try_broadcast("nobody", vec![1]), Ok(Published::default()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishers_deliver_whole_publishes_or_nothing() {
    const CAPACITY: usize = 16;
    let ps = hub();
    let mut a = sub(&ps, "t", SubscribeConfig::blocking(CAPACITY));
    let mut b = sub(&ps, "t", SubscribeConfig::blocking(CAPACITY / 2));
    let accepted = Arc::new(AtomicU64::new(0));
    let publishers: Vec<_> = (0..4u32)
        .map(|p| {
            let (ps, accepted) = (ps.clone(), accepted.clone());
            tokio::spawn(async move {
                let mut refused = 0u64;
                for i in 0..500u32 {
                    let chunk: Vec<u32> = (0..3).map(|k| p * 1_000_000 + i * 10 + k).collect();
                    match ps.try_broadcast("t", chunk) {
                        Ok(report) => {
                            assert_eq!(report, Published { subscribers: 2, dropped: 0 });
                            accepted.fetch_add(3, Ordering::Relaxed);
                        }
                        Err(PubSubError::Full { needed: 3, room, .. }) => {
                            assert!(room < 3);
                            refused += 1;
                        }
                        Err(other) => panic!("unexpected {other}"),
                    }
                    tokio::task::yield_now().await;
                }
                refused
            })
        })
        .collect();
    let readers = [(a.gauge(), CAPACITY), (b.gauge(), CAPACITY / 2)];
    let mut got_a = Vec::new();
    let mut got_b = Vec::new();
    let mut refused = 0;
    let mut publishers = publishers.into_iter();
    let mut pending = publishers.next();
    while let Some(handle) = pending.take() {
        // Read slowly while the publishers race, checking the bound each time.
        while !handle.is_finished() {
            for (gauge, capacity) in &readers {
                assert!(gauge() <= *capacity as u64);
            }
            if let Some(d) = a.try_recv() {
                got_a.extend(d.items);
            }
            if let Some(d) = b.try_recv() {
                got_b.extend(d.items);
            }
            tokio::task::yield_now().await;
        }
        refused += handle.await.expect("publisher");
        pending = publishers.next();
    }
    got_a.extend(drain(&mut a));
    got_b.extend(drain(&mut b));
    let whole = |got: &[u32]| got.chunks(3).all(|c| c[0] % 10 == 0 && c[1] == c[0] + 1 && c[2] == c[0] + 2);
    assert!(whole(&got_a) && whole(&got_b), "whole publishes only");
    // Two publishers may reach `a` and `b` in different orders: compare the sets.
    got_a.sort_unstable();
    got_b.sort_unstable();
    assert_eq!(got_a, got_b, "both received exactly the accepted publishes");
    assert_eq!(got_a.len() as u64, accepted.load(Ordering::Relaxed));
    assert_eq!(accepted.load(Ordering::Relaxed) / 3 + refused, 4 * 500);
    assert!(refused > 0, "a buffer of 8 under 4 publishers must have refused some");
}

#[tokio::test]
async fn an_empty_publish_queues_nothing() {
    let ps = hub();
    let mut block = sub(&ps, "t", SubscribeConfig::blocking(2));
    let mut dropping = sub(&ps, "t", SubscribeConfig::with_overflow(2, Overflow::DropOldest));
    ps.try_broadcast("t", Vec::new()).expect("fits");
    ps.broadcast("t", Vec::new()).await.expect("open");
    assert!(block.try_recv().is_none() && dropping.try_recv().is_none(), "no empty chunk is queued");
}
