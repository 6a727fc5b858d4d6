//! Scale-out (issue 14) at the size: 200,000 events across three node processes
//! sharing one redis-server, one node SIGKILLed at a seeded random point. In its own test
//! binary: cargo runs test binaries one at a time, so this load does not starve the timing of
//! the smaller failover tests (`cluster_failover.rs`).

mod common;

use common::cluster::*;
use common::redis_server::RedisServer;

/// Every n-th event is invalid.
const INVALID_EVERY: usize = 25;

/// The load: 200,000 events in 1,000 posts of 200.
const BIG_POSTS: usize = 1_000;
const BIG_PER_POST: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_events_and_a_node_killed_at_a_random_point_lose_nothing_for_several_seeds() {
    let events = BIG_POSTS * BIG_PER_POST;
    for seed in [7, 11, 23] {
        let mut rng = fastrand::Rng::with_seed(seed);
        let redis = RedisServer::start().await;
        let data = tempfile::tempdir().expect("temp dir");
        let mut nodes = Vec::new();
        for name in ["a", "b", "c"] {
            // Each node takes at most 40,000 events a second: the victim holds work when it dies.
            nodes.push(Some(node(&redis, &data, name, &[("PULSE_RATE_LIMIT_PER_S", "40000")]).await));
        }
        let victim = rng.usize(0..3);
        let kill_at = rng.usize(BIG_POSTS / 5..BIG_POSTS * 7 / 10);
        let mut posted = 0u64;
        for i in 0..BIG_POSTS {
            if i == kill_at {
                let mut dead = nodes[victim].take().expect("alive");
                dead.child.kill().expect("SIGKILL");
                dead.child.wait().expect("gone");
            }
            let to = (i..i + 3).map(|k| k % 3).find(|k| nodes[*k].is_some()).expect("a live node");
            let body = batch(i * BIG_PER_POST, BIG_PER_POST, INVALID_EVERY);
            let (status, _, answer) = post(nodes[to].as_ref().expect("alive"), &body).await;
            assert_eq!(status, 202, "seed {seed}, post {i}: {answer}");
            posted += count(&answer["accepted"]);
        }
        let watcher = nodes.iter().flatten().next().expect("a live node");
        let view = quiescent(watcher).await;
        assert_balanced_at(&view, events as u64);
        assert_eq!(posted, events as u64);
        assert_eq!(
            count(&view["total"]["failed"]),
            (events as u64).div_ceil(INVALID_EVERY as u64),
            "seed {seed}"
        );
        let redelivered = count(&view["total"]["redelivered"]);
        let duplicates = each_at_least_once(&data, events);
        assert!(
            duplicates <= redelivered,
            "seed {seed}: {duplicates} processed twice, {redelivered} redelivered"
        );
        let bound = in_flight_bound(BIG_PER_POST as u64);
        println!(
            "seed {seed}: killed {} after {kill_at} of {BIG_POSTS} posts ({events} events); redelivered \
             {redelivered} events, {duplicates} of them processed twice (bound from its settings: {bound})",
            ["a", "b", "c"][victim]
        );
        assert!(redelivered <= bound, "seed {seed}: {redelivered} redelivered > bound {bound}");
    }
}
