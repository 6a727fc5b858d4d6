//! The dead-letter queue on a real server: final failures are stored with every reason, listed,
//! replayed and purged through server functions, and survive a restart of the server.

mod common;

use app::error::AppError;
use app::model::DeadLetterPage;
use common::{TestServer, reading};
use pulse_server::ServerConfig;
use std::time::Duration;

fn config(dir: &std::path::Path) -> ServerConfig {
    let mut c = ServerConfig { data_dir: dir.to_path_buf(), ..ServerConfig::default() };
    if let Some(r) = c.pipeline.retry.as_mut() {
        r.backoff = Duration::from_millis(5);
    }
    c
}

async fn list(s: &TestServer) -> DeadLetterPage {
    s.call("list_dead_letters", &[("limit", "100")]).await
}

/// Waits until the queue holds `n` letters (written after the failures were acknowledged).
async fn stored(s: &TestServer, n: u64) -> DeadLetterPage {
    for _ in 0..200 {
        let page = list(s).await;
        if page.total == n {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the queue never held {n}: {:?}", list(s).await);
}

#[tokio::test]
async fn final_failures_are_dead_lettered_with_every_reason_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::with_config(config(dir.path())).await;
    let body = serde_json::json!([
        reading("crash", "humidity", 40.0),
        reading("hot", "temperature", 180.0),
        reading("fine", "humidity", 40.0),
    ]);
    assert_eq!(s.post_events(body.to_string()).await.0, 202);
    s.idle_stats().await;
    let page = stored(&s, 2).await;
    let crash = page.entries.iter().find(|e| e.payload["sensor"] == "crash").expect("crash letter");
    assert_eq!(crash.attempts, 3, "three attempts, each failure kept");
    assert!(crash.failures.iter().all(|f| f.kind == "panic" && f.reason.contains("simulated crash")));
    let hot = page.entries.iter().find(|e| e.payload["sensor"] == "hot").expect("invalid letter");
    assert_eq!(hot.attempts, 1, "a permanent failure is not retried");
    assert_eq!(hot.last_reason(), Some("temperature 180 out of range -50..=150 °C"));
    assert_eq!(hot.source.as_deref(), Some("events"));
    let stats = s.stats().await.dead_letters;
    assert_eq!((stats.stored, stats.written, stats.not_stored, stats.capacity), (2, 2, 0, 10_000));
    // The live page's rows: the same letters as plain text, newest first.
    let rows: Vec<app::model::DeadLetterRow> = s.call("recent_dead_letters", &[("limit", "5")]).await;
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        page.entries.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    let row = rows.iter().find(|r| r.id == hot.id).expect("hot row");
    assert_eq!((row.what.as_str(), row.attempts), ("hot temperature 180.0", 1));
    assert_eq!(row.reason, "temperature 180 out of range -50..=150 °C");
    assert_eq!(s.refused("recent_dead_letters", &[("limit", "0")]).await.0, 400);
    s.stop().await;

    // A new server on the same data dir finds them, replays one (it fails again, and comes
    // back under a new id), and purges the rest.
    let s = TestServer::with_config(config(dir.path())).await;
    let again = list(&s).await;
    assert_eq!(again.entries, page.entries, "the same letters, reasons and ids after a restart");
    let hot_id = hot.id.to_string();
    let replayed: u64 = s.call("replay_dead_letters", &[("ids[0]", hot_id.as_str()), ("all", "false")]).await;
    assert_eq!(replayed, 1);
    let after = stored(&s, 2).await;
    assert!(!after.entries.iter().any(|e| e.id == hot.id), "the replayed letter left the queue");
    assert!(after.entries.iter().any(|e| e.id > crash.id.max(hot.id) && e.payload["sensor"] == "hot"));
    let ledger = s.idle_stats().await;
    assert_eq!((ledger.published, ledger.failed), (1, 1), "the replay was published again");
    assert_eq!(ledger.dead_letters.replayed, 1);
    assert_eq!(s.call::<u64>("purge_dead_letters", &[]).await, 2);
    assert_eq!(list(&s).await.total, 0);
    s.stop().await;
}

#[tokio::test]
async fn bad_dead_letter_requests_are_refused_with_their_reason() {
    let s = TestServer::start().await;
    let (status, e) = s.refused("list_dead_letters", &[("limit", "0")]).await;
    assert_eq!(
        (status, e),
        (400, AppError::InvalidArgument("limit must be between 1 and 500, got 0".into()))
    );
    let (status, e) = s.refused("replay_dead_letters", &[("all", "false")]).await;
    assert!(status == 400 && e.to_string().contains("name the letters"), "{status} {e}");
    let (status, e) = s.refused("list_dead_letters", &[("limit", "many")]).await;
    assert_eq!(status, 400, "arguments that do not decode are the caller's too: {e}");
    assert!(matches!(e, AppError::ServerFn(_)), "{e:?}");
    assert_eq!(s.call::<u64>("replay_dead_letters", &[("all", "true")]).await, 0, "empty queue");
    s.stop().await;
}
