//! The live page's stream and demo scenarios against a real server on 127.0.0.1:0: one
//! WebSocket carries a full frame then deltas (a full frame again after a lag), history points each second, a feed of
//! messages with their failure reasons; crash a processor and kill a stage through server
//! functions, with nothing lost.

mod common;

use app::model::{FeedStatus, LiveFrame, LiveModel};
use common::{TestServer, reading};
use futures_util::StreamExt;
use std::time::Duration;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(s: &TestServer) -> Socket {
    connect_async(format!("ws://{}/ws", s.addr)).await.expect("connect").0
}

async fn next_frame(ws: &mut Socket) -> LiveFrame {
    let msg = tokio::time::timeout(Duration::from_secs(3), ws.next())
        .await
        .expect("a frame within 3 s")
        .expect("stream open")
        .expect("frame");
    assert!(msg.is_binary(), "frames are binary: {msg:?}");
    app::model::wire::decode(&msg.into_data()).expect("a live frame")
}

/// Reads frames into `model` until `cond` holds (at most 10 s).
async fn until(ws: &mut Socket, model: &mut LiveModel, what: &str, cond: impl Fn(&LiveModel) -> bool) {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while !cond(model) {
            model.merge(next_frame(ws).await);
        }
    });
    found.await.unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", model.stats));
}

/// What a socket has been sent so far, for checking each next frame against.
#[derive(Default)]
struct Seen {
    seq: u64,
    processed: u64,
    /// Newest feed item / history point any frame carried.
    item: u64,
    point: u64,
    /// Newest feed item / history point a delta carried.
    delta_item: u64,
    delta_point: u64,
    deltas_with_items: usize,
}

impl Seen {
    /// Checks `f` against what came before it: ticks only go forward; a delta follows the
    /// previous tick and carries only what no earlier delta did; a full frame (the first, or
    /// after the socket fell behind) holds the whole window up to at least what was seen.
    fn check(&mut self, f: &LiveFrame) {
        assert!(f.seq > self.seq, "tick {} after tick {}", f.seq, self.seq);
        assert!(f.stats.processed >= self.processed, "processed went back: {:?}", f.stats);
        let items: Vec<u64> = f.feed.iter().map(|i| i.id).collect();
        let points: Vec<u64> = f.history.iter().map(|p| p.seq).collect();
        assert!(items.windows(2).all(|w| w[0] < w[1]), "feed oldest first: {items:?}");
        assert!(points.windows(2).all(|w| w[1] == w[0] + 1), "consecutive points: {points:?}");
        assert!(f.feed.len() <= app::model::FEED_ITEMS, "{} feed items", f.feed.len());
        if f.full {
            assert!(f.dead_letters.is_some(), "a full frame lists the dead letters");
            assert!(items.last().copied().unwrap_or(0) >= self.item, "a full frame holds the newest items");
            assert!(
                points.last().copied().unwrap_or(0) >= self.point,
                "a full frame holds the newest points"
            );
        } else {
            assert_eq!(f.seq, self.seq + 1, "a delta follows the tick before it");
            assert!(items.first().is_none_or(|&i| i > self.delta_item), "a delta's items are new: {items:?}");
            assert!(
                points.first().is_none_or(|&p| p > self.delta_point),
                "a delta's points are new: {points:?}"
            );
            self.delta_item = items.last().copied().unwrap_or(self.delta_item);
            self.delta_point = points.last().copied().unwrap_or(self.delta_point);
            self.deltas_with_items += usize::from(!items.is_empty());
        }
        self.seq = f.seq;
        self.processed = f.stats.processed;
        self.item = self.item.max(items.last().copied().unwrap_or(0));
        self.point = self.point.max(points.last().copied().unwrap_or(0));
    }
}

#[tokio::test]
async fn a_socket_gets_a_full_frame_then_deltas_that_carry_only_what_is_new() {
    let s = TestServer::start().await;
    let mut ws = open(&s).await;
    let first = next_frame(&mut ws).await;
    assert!(first.full, "the first frame carries the whole window");
    let mut seen = Seen::default();
    seen.check(&first);
    let mut model = LiveModel::from_frame(first);
    // Traffic in three posts, so that several ticks have new feed items to carry.
    for round in 0..3 {
        let batch: Vec<_> = (0..20).map(|i| reading(&format!("r{round}-{i}"), "humidity", 40.0)).collect();
        assert_eq!(s.post_events(serde_json::Value::Array(batch).to_string()).await.0, 202);
        let want = 20 * (round + 1);
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            while model.stats.processed < want {
                let f = next_frame(&mut ws).await;
                seen.check(&f);
                model.merge(f);
            }
        });
        found.await.unwrap_or_else(|_| panic!("timed out waiting for {want} processed: {:?}", model.stats));
    }
    // A frame after a lag may be full, but a socket that reads every frame gets deltas too.
    assert!(seen.deltas_with_items > 0, "no delta carried a feed item");
    let ids: Vec<u64> = model.feed.iter().map(|i| i.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "merged feed without repeats: {ids:?}");
    // A new socket starts with a full frame holding everything seen so far.
    let fresh = next_frame(&mut open(&s).await).await;
    let mut again = Seen { item: seen.item, point: seen.point, ..Seen::default() };
    again.check(&fresh);
    assert!(fresh.full && fresh.stats.processed == 60, "{:?}", fresh.stats);
    assert!(s.stop().await.balances());
}

#[tokio::test]
async fn points_each_second_and_a_feed_with_reasons_follow_the_traffic() {
    let s = TestServer::start().await;
    let mut ws = open(&s).await;
    let mut model = LiveModel::from_frame(next_frame(&mut ws).await);
    let batch: Vec<_> = (0..300)
        .map(|i| reading(&format!("s-{i}"), "temperature", if i % 3 == 0 { 900.0 } else { 20.0 }))
        .collect();
    assert_eq!(s.post_events(serde_json::Value::Array(batch).to_string()).await.0, 202);
    until(&mut ws, &mut model, "a failed reading in the feed", |m| {
        m.feed.iter().any(|i| i.status == FeedStatus::Failed)
    })
    .await;
    let failed = model.feed.iter().find(|i| i.status == FeedStatus::Failed).expect("found");
    assert_eq!(failed.value, 900.0);
    assert!(failed.reason.as_deref().is_some_and(|r| r.contains("out of range")), "{failed:?}");
    until(&mut ws, &mut model, "a second with the traffic in the history", |m| {
        m.history.iter().map(|p| p.processed).sum::<u64>() == 200
            && m.history.iter().map(|p| p.failed).sum::<u64>() == 100
    })
    .await;
    assert!(model.history.iter().any(|p| p.error_pct() > 0.0));
    assert!(model.history.iter().zip(model.history.iter().skip(1)).all(|(a, b)| b.seq == a.seq + 1));
    // A second socket's full frame (and the first paint's) carries the same history.
    let second = next_frame(&mut open(&s).await).await;
    assert!(second.full);
    assert_eq!(second.history.iter().map(|p| p.failed).sum::<u64>(), 100);
    let frame: LiveFrame = s.call("get_live", &[]).await;
    assert!(frame.full && frame.stats.failed == 100 && !frame.feed.is_empty(), "{frame:?}");
    assert!(s.stop().await.balances());
}

/// The newest dead letters ride the stream: they appear without any request of the page's own,
/// newest first with their reason, in a new socket's full frame too, and go when purged.
#[tokio::test]
async fn dead_letters_reach_the_page_with_the_stream() {
    let s = TestServer::start().await;
    let mut ws = open(&s).await;
    let mut model = LiveModel::from_frame(next_frame(&mut ws).await);
    assert!(model.dead_letters.is_empty());
    let batch = serde_json::json!([
        reading("hot-1", "temperature", 900.0),
        reading("fine", "humidity", 40.0),
        reading("hot-2", "temperature", 901.0),
    ]);
    assert_eq!(s.post_events(batch.to_string()).await.0, 202);
    until(&mut ws, &mut model, "two dead letters on the page", |m| m.dead_letters.len() == 2).await;
    let ids: Vec<u64> = model.dead_letters.iter().map(|l| l.id).collect();
    assert!(ids[0] > ids[1], "newest first: {ids:?}");
    for letter in &model.dead_letters {
        assert!(letter.what.starts_with("hot-") && letter.reason.contains("out of range"), "{letter:?}");
        assert_eq!(letter.attempts, 1);
    }
    let full = next_frame(&mut open(&s).await).await;
    assert_eq!(full.dead_letters.as_deref(), Some(&model.dead_letters[..]), "a new page sees them at once");
    assert_eq!(s.call::<u64>("purge_dead_letters", &[]).await, 2);
    until(&mut ws, &mut model, "the purge on the page", |m| m.dead_letters.is_empty()).await;
    assert!(s.stop().await.balances());
}

#[tokio::test]
async fn crash_a_processor_fails_that_message_with_the_panic_and_work_goes_on() {
    let s = TestServer::start().await;
    let mut ws = open(&s).await;
    let mut model = LiveModel::from_frame(next_frame(&mut ws).await);
    s.call::<()>("crash_processor", &[]).await;
    until(&mut ws, &mut model, "the crashed message in the feed", |m| {
        m.feed.iter().any(|i| i.sensor == "crash" && i.status == FeedStatus::Failed)
    })
    .await;
    let crashed = model.feed.iter().find(|i| i.sensor == "crash").expect("found");
    assert!(crashed.reason.as_deref().is_some_and(|r| r.contains("simulated crash")), "{crashed:?}");
    assert!(crashed.attempts > 1, "retried before failing: {crashed:?}");
    // The processors keep going.
    let batch: Vec<_> = (0..50).map(|i| reading(&format!("s-{i}"), "humidity", 40.0)).collect();
    assert_eq!(s.post_events(serde_json::Value::Array(batch).to_string()).await.0, 202);
    let idle = s.until("the next readings processed", |st| st.processed == 50 && st.in_flight == 0).await;
    assert_eq!((idle.failed, idle.pipeline.restarts), (1, 0), "a caught panic restarts nothing");
    assert!(s.stop().await.balances());
}

#[tokio::test]
async fn kill_a_stage_restarts_it_once_and_loses_nothing() {
    let s = TestServer::start().await;
    for bad in [
        &[][..],
        &[("stage[role]", "producer")][..],
        &[("stage[role]", "processor"), ("stage[index]", "99")][..],
        &[("stage[role]", "batcher"), ("stage[batcher]", "nope")][..],
        &[("stage[role]", "batcher")][..],
        &[("stage", "processor 0")][..],
    ] {
        let (status, e) = s.refused("kill_stage", bad).await;
        assert_eq!(status, 400, "{bad:?} refused as the caller's mistake: {e}");
    }
    let before = s.stats().await.pipeline.restarts;
    let batch: Vec<_> = (0..2_000).map(|i| reading(&format!("s-{i}"), "pressure", 1000.0)).collect();
    let body = serde_json::Value::Array(batch).to_string();
    for stage in [
        &[("stage[role]", "processor"), ("stage[index]", "0")][..],
        &[("stage[role]", "batcher"), ("stage[batcher]", "default")][..],
        &[("stage[role]", "batch_processor"), ("stage[batcher]", "default"), ("stage[index]", "0")][..],
    ] {
        assert_eq!(s.post_events(body.clone()).await.0, 202);
        s.call::<()>("kill_stage", stage).await;
    }
    // A restart is counted when the supervisor starts the new task, which may come just after
    // the last acknowledgement: wait for both.
    let idle = s
        .until("every reading acknowledged and one restart per kill", |st| {
            st.in_flight == 0 && st.processed == 6_000 && st.pipeline.restarts == before + 3
        })
        .await;
    assert_eq!(idle.failed, 0, "nothing failed");
    let named = |n: &str| idle.pipeline.stages.iter().find(|st| st.name == n).map(|st| st.restarts);
    assert_eq!(named("processor 0"), Some(1));
    assert!(s.stop().await.balances());
}
