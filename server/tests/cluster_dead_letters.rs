//! Scale-out (issue 14), the cluster's dead-letter queue: in redis mode every node's failures
//! go to one queue in Redis, which any node's page lists, replays and purges. Replay is one
//! atomic step per chunk (letters out, events back into the stream), so two nodes replaying
//! at once replay each letter once. Against a real redis-server.

mod common;

use app::model::DeadLetterPage;
use common::ServerProcess;
use common::cluster::*;
use common::redis_server::RedisServer;
use serde_json::Value;
use std::time::Duration;

/// Events posted, every `INVALID_EVERY`-th out of range (it fails for good, no retry).
const EVENTS: usize = 200;
const INVALID_EVERY: usize = 10;
const FAILING: u64 = (EVENTS / INVALID_EVERY) as u64;

async fn page(node: &ServerProcess) -> DeadLetterPage {
    node.call("list_dead_letters", &[("limit", "500")]).await
}

/// Waits until the cluster is quiescent with `letters` letters queued; the view then.
async fn settled(node: &ServerProcess, letters: u64) -> Value {
    until(&format!("{letters} letters, nothing in flight"), Duration::from_secs(30), || async {
        let view = quiescent(node).await;
        (count(&view["dead_letters"]) == letters).then_some(view)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_nodes_failures_are_in_one_queue_that_any_node_lists_replays_once_and_purges() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let a = node(&redis, &data, "a", &[]).await;
    let b = node(&redis, &data, "b", &[]).await;
    // Half the events through each node: both nodes' pipelines fail some.
    for (i, n) in [&a, &b].into_iter().enumerate() {
        let half = EVENTS / 2;
        let (status, _, body) = post(n, &batch(i * half, half, INVALID_EVERY)).await;
        assert_eq!(status, 202, "{body}");
    }
    let view = settled(&a, FAILING).await;
    assert_eq!(count(&view["total"]["failed"]), FAILING, "{view}");

    // Both nodes list the same queue: every failed event once, with its reason.
    let (from_a, from_b) = (page(&a).await, page(&b).await);
    assert_eq!(from_a.total, FAILING);
    assert_eq!(from_a.entries, from_b.entries, "one queue, whichever node is asked");
    let mut sensors: Vec<String> =
        from_b.entries.iter().map(|e| e.payload["sensor"].as_str().expect("a sensor").to_owned()).collect();
    sensors.sort();
    let mut expected: Vec<String> = (0..EVENTS).step_by(INVALID_EVERY).map(|i| format!("s-{i}")).collect();
    expected.sort();
    assert_eq!(sensors, expected, "each failed event has exactly one letter");
    let letter = &from_b.entries[0];
    assert!(letter.last_reason().is_some_and(|r| r.contains("out of range")), "{letter:?}");
    assert_eq!(letter.source.as_deref(), Some("events"));
    assert!(from_b.entries.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    // Paging: below the 5th letter's id, the rest.
    let before = from_b.entries[4].id.to_string();
    let next: DeadLetterPage = b.call("list_dead_letters", &[("before", &before), ("limit", "500")]).await;
    assert_eq!(next.entries, from_b.entries[5..]);

    // Three chosen letters replayed through b: they leave the queue, their events are
    // published again (and fail again: new letters with new ids).
    let chosen: Vec<String> = from_a.entries[..3].iter().map(|e| e.id.to_string()).collect();
    let form: Vec<(String, &str)> =
        chosen.iter().enumerate().map(|(i, id)| (format!("ids[{i}]"), id.as_str())).collect();
    let mut form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    form.push(("all", "false"));
    assert_eq!(b.call::<u64>("replay_dead_letters", &form).await, 3);
    let view = settled(&a, FAILING).await;
    let after = page(&a).await;
    let top = from_a.entries[0].id;
    assert!(!after.entries.iter().any(|e| chosen.contains(&e.id.to_string())), "the replayed letters left");
    assert_eq!(after.entries.iter().filter(|e| e.id > top).count(), 3, "they failed again: 3 new letters");
    assert_eq!(count(&view["total"]["published"]), EVENTS as u64 + 3, "{view}");

    // Both nodes replay everything at once: each letter is replayed exactly once.
    let (ra, rb) = tokio::join!(
        a.call::<u64>("replay_dead_letters", &[("all", "true")]),
        b.call::<u64>("replay_dead_letters", &[("all", "true")]),
    );
    assert_eq!(ra + rb, FAILING, "a: {ra}, b: {rb}: no letter replayed twice, none skipped");
    let view = settled(&b, FAILING).await;
    let total = &view["total"];
    assert_eq!(count(&total["published"]), EVENTS as u64 + 3 + FAILING, "{view}");
    assert_eq!(count(&total["replayed"]), 3 + FAILING, "{view}");
    assert_eq!(count(&total["failed"]), FAILING * 2 + 3, "they failed again: {view}");
    assert_eq!(view["balances"], true, "{view}");

    // A purge on a empties the one queue; b sees it empty. Ids are never reused.
    let highest = page(&b).await.entries[0].id;
    assert_eq!(a.call::<u64>("purge_dead_letters", &[]).await, FAILING);
    assert_eq!(page(&b).await.total, 0);
    let (status, _, _) = post(&b, &batch(10_000, 1, 1)).await;
    assert_eq!(status, 202);
    settled(&a, 1).await;
    assert!(page(&a).await.entries[0].id > highest, "a new letter gets a new id after a purge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_keeps_its_capacity_and_counts_what_it_evicted() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let a = node(&redis, &data, "a", &[("PULSE_DLQ_CAPACITY", "50")]).await;
    let (status, _, body) = post(&a, &batch(0, 80, 1)).await; // all 80 fail
    assert_eq!(status, 202, "{body}");
    let view = settled(&a, 50).await;
    assert_eq!(count(&view["dead_letters_evicted"]), 30, "{view}");
    let page = page(&a).await;
    assert_eq!((page.total, page.evicted, page.capacity), (50, 30, 50));
    // The page's counts are read again each second.
    let stats = until("the node's counts to catch up", Duration::from_secs(5), || async {
        let s = a.stats().await;
        (s.dead_letters.stored == 50).then_some(s)
    })
    .await;
    let d = &stats.dead_letters;
    assert_eq!((d.stored, d.evicted, d.written), (50, 30, 80), "{d:?}");
    assert_eq!(stats.failed, 80, "the node's own ledger counts its failures once acknowledged");
    assert_eq!(stats.in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_that_does_not_decode_is_kept_whole_as_a_letter_and_acknowledged() {
    let redis = RedisServer::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let a = node(&redis, &data, "a", &[]).await;
    // Written by something that is not Pulse: it says 2 events, its data is not postcard.
    let id: String = redis::cmd("XADD")
        .arg("pulse:events")
        .arg("*")
        .arg("n")
        .arg("2")
        .arg("o")
        .arg("intruder")
        .arg("d")
        .arg("not postcard")
        .query_async(&mut redis.conn().await)
        .await
        .expect("XADD");
    let (status, _, _) = post(&a, &batch(1, 10, 1_000)).await;
    assert_eq!(status, 202, "a good entry after it is processed as usual");
    let view = settled(&a, 1).await;
    let total = &view["total"];
    assert_eq!(count(&total["corrupt_entries"]), 1, "{view}");
    assert_eq!((count(&total["published"]), count(&total["processed"])), (10, 10), "{view}");
    assert_eq!(view["balances"], true, "not counted as published by anyone, not in the balance");
    let letter = page(&a).await.entries.remove(0);
    assert_eq!(letter.payload["entry"], id.as_str());
    assert_eq!(letter.payload["fields"]["o"], "intruder");
    assert_eq!(letter.failures.last().map(|f| f.kind.as_str()), Some("corrupt"), "{letter:?}");
    // Replaying it removes it (it is not a reading) and publishes nothing.
    assert_eq!(a.call::<u64>("replay_dead_letters", &[("all", "true")]).await, 0);
    assert_eq!(page(&a).await.total, 0);
    assert_eq!(count(&quiescent(&a).await["total"]["published"]), 10);
}
