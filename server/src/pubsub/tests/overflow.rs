//! Overflow policies: what a full buffer does, every loss counted, and the buffer never above
//! its capacity under a flood from several concurrent publishers.

use super::*;
use std::sync::atomic::{AtomicBool, Ordering};

#[tokio::test]
async fn drop_oldest_keeps_the_newest_and_counts_the_rest() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::with_overflow(3, Overflow::DropOldest));
    assert_eq!(ps.broadcast("t", vec![1, 2]).await.expect("open").dropped, 0);
    assert_eq!(ps.broadcast("t", vec![3, 4]).await.expect("open").dropped, 0, "an older one goes");
    ps.broadcast("t", vec![5]).await.expect("open");
    assert_eq!(s.lost(), 2);
    assert_eq!(
        s.recv().await.expect("chunk").items,
        vec![3, 4],
        "the oldest chunk was trimmed, then dropped"
    );
    assert_eq!(s.recv().await.expect("chunk").items, vec![5]);
    // A chunk larger than the buffer keeps its newest messages.
    ps.broadcast("t", (10..20).collect()).await.expect("open");
    assert_eq!(drain(&mut s), vec![17, 18, 19]);
    assert_eq!(s.lost(), 2 + 7);
}

#[tokio::test]
async fn drop_newest_keeps_the_oldest_and_counts_the_rest() {
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::with_overflow(3, Overflow::DropNewest));
    ps.broadcast("t", vec![1, 2]).await.expect("open");
    assert_eq!(ps.broadcast("t", vec![3, 4]).await.expect("open").dropped, 1);
    assert_eq!(ps.broadcast("t", vec![5]).await.expect("open").dropped, 1);
    assert_eq!(drain(&mut s), vec![1, 2, 3]);
    assert_eq!(s.lost(), 2);
}

#[tokio::test]
async fn each_subscriber_follows_its_own_policy() {
    let ps = hub();
    let mut newest = sub(&ps, "t", SubscribeConfig::with_overflow(2, Overflow::DropNewest));
    let mut oldest = sub(&ps, "t", SubscribeConfig::with_overflow(2, Overflow::DropOldest));
    let mut block = sub(&ps, "t", SubscribeConfig::blocking(8));
    let report = ps.broadcast("t", vec![1, 2, 3]).await.expect("open");
    assert_eq!(report, Published { subscribers: 3, dropped: 2 });
    assert_eq!(
        (drain(&mut newest), drain(&mut oldest), drain(&mut block)),
        (vec![1, 2], vec![2, 3], vec![1, 2, 3])
    );
}

/// Four publishers flood one subscriber of capacity 8 while it receives slowly; a watcher
/// samples the buffer throughout. Returns (messages published, received, lost).
async fn flood(overflow: Overflow) -> (u64, u64, u64) {
    const CAPACITY: u64 = 8;
    let ps = hub();
    let mut s = sub(&ps, "t", SubscribeConfig::with_overflow(CAPACITY as usize, overflow));
    let gauge = s.gauge();
    let done = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn({
        let (gauge, done) = (gauge.clone(), done.clone());
        async move {
            let mut peak = 0;
            while !done.load(Ordering::Acquire) {
                peak = peak.max(gauge());
                tokio::task::yield_now().await;
            }
            peak
        }
    });
    let publishers: Vec<_> = (0..4u32)
        .map(|p| {
            let ps = ps.clone();
            tokio::spawn(async move {
                let mut sent = 0u64;
                for i in 0..300u32 {
                    let n = (i % 13) + 1; // 1..=13: some chunks are larger than the buffer
                    ps.broadcast("t", (0..n).map(|k| p * 1_000_000 + i * 100 + k).collect())
                        .await
                        .expect("open");
                    sent += u64::from(n);
                }
                sent
            })
        })
        .collect();
    let receiver = tokio::spawn(async move {
        let mut received = 0u64;
        while let Some(d) = s.recv().await {
            assert!(
                d.items.len() as u64 <= CAPACITY,
                "a chunk of {} in a buffer of {CAPACITY}",
                d.items.len()
            );
            assert!(gauge() <= CAPACITY);
            received += d.items.len() as u64;
            tokio::task::yield_now().await; // a slow reader
        }
        (received, s.lost())
    });
    let mut published = 0;
    for p in publishers {
        published += p.await.expect("publisher");
    }
    ps.close();
    let (received, lost) = receiver.await.expect("receiver");
    done.store(true, Ordering::Release);
    let peak = watcher.await.expect("watcher");
    assert!(peak <= CAPACITY, "the buffer held {peak} messages, capacity {CAPACITY}");
    (published, received, lost)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_never_overfills_a_blocking_buffer_and_loses_nothing() {
    let (published, received, lost) = flood(Overflow::Block).await;
    assert_eq!((received, lost), (published, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_never_overfills_a_drop_newest_buffer_and_counts_every_loss() {
    let (published, received, lost) = flood(Overflow::DropNewest).await;
    assert_eq!(received + lost, published);
    assert!(lost > 0, "a slow reader of 8 must have lost some of {published}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_never_overfills_a_drop_oldest_buffer_and_counts_every_loss() {
    let (published, received, lost) = flood(Overflow::DropOldest).await;
    assert_eq!(received + lost, published);
    assert!(lost > 0, "a slow reader of 8 must have lost some of {published}");
}
