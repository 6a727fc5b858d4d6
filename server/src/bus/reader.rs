//! The reader task behind [`super::RedisProducer`]: reads the group on its own connection (a
//! blocking read monopolises a connection) only when the producer's small channel has room,
//! so what a node holds unprocessed stays within its read-ahead. It reads this node's own
//! pending entries first (from `0`: a restarted node finishes its own work), then new ones
//! (`>`); entries the reaper claimed from dead nodes go in before new ones.

use super::RedisBus;
use super::codec::{self, Entry};
use super::letters::{corrupt, poison};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamId, StreamPendingCountReply, StreamReadReply};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long one read of new entries blocks in Redis when there are none.
const BLOCK_MS: u64 = 100;

/// Reads until `stop`, then hands on what the reaper claimed for it, and ends (closing the
/// producer's channel: the pipeline's drain then ends).
pub(crate) async fn read_loop(
    bus: RedisBus,
    tx: mpsc::Sender<Entry>,
    mut claims: mpsc::Receiver<Entry>,
    stop: CancellationToken,
) {
    let mut conn: Option<ConnectionManager> = None;
    // Some(cursor): reading this node's own pending entries after the cursor; None: new ones.
    let mut history = Some("0".to_owned());
    let mut backoff = Duration::from_millis(100);
    loop {
        let permit = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            permit = tx.reserve() => match permit { Ok(p) => p, Err(_) => break },
        };
        if let Ok(entry) = claims.try_recv() {
            permit.send(entry);
            continue;
        }
        let room = 1 + tx.capacity();
        let read = match conn.as_mut() {
            Some(c) => read(&bus, c, history.as_deref(), room).await,
            None => match reader_connection(&bus).await {
                Ok(c) => {
                    conn = Some(c);
                    continue; // read on the next round, with the connection
                }
                Err(e) => Err(e),
            },
        };
        match read {
            Ok((entries, last)) => {
                backoff = Duration::from_millis(100);
                if history.is_some() {
                    // The cursor moves past everything read, handed on or not (poison,
                    // entries this node still works on); none read: history is done.
                    history = last;
                    if history.is_none() {
                        tracing::debug!("own pending entries read; reading new entries");
                    }
                }
                let mut entries = entries.into_iter();
                if let Some(first) = entries.next() {
                    permit.send(first);
                }
                for e in entries {
                    // Room was counted above and only this task sends.
                    if tx.try_send(e).is_err() {
                        tracing::error!("the producer's channel had less room than counted");
                    }
                }
            }
            Err(e) => {
                drop(permit);
                bus.trouble(&e);
                // After trouble, start again from this node's own pending entries.
                history = Some("0".to_owned());
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
    // Claimed entries are this node's now: hand them on rather than leave them to a claim.
    claims.close();
    while let Some(entry) = claims.recv().await {
        if tx.send(entry).await.is_err() {
            break;
        }
    }
}

/// The dedicated connection: its response timeout is above the read's BLOCK.
async fn reader_connection(bus: &RedisBus) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_millis(BLOCK_MS) + Duration::from_secs(2)))
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_with_config(bus.inner.client.clone(), config).await
}

/// One read of at most `count` entries: own pending ones after `history`'s cursor, or new;
/// the entries to hand on, and the id of the last one read.
async fn read(
    bus: &RedisBus,
    conn: &mut ConnectionManager,
    history: Option<&str>,
    count: usize,
) -> redis::RedisResult<(Vec<Entry>, Option<String>)> {
    let keys = &bus.inner.keys;
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP").arg(&keys.group).arg(bus.node()).arg("COUNT").arg(count);
    if history.is_none() {
        cmd.arg("BLOCK").arg(BLOCK_MS);
    }
    cmd.arg("STREAMS").arg(&keys.stream).arg(history.unwrap_or(">"));
    let reply: Option<StreamReadReply> = cmd.query_async(conn).await?;
    let raw: Vec<StreamId> = reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids).collect();
    if raw.is_empty() {
        return Ok((Vec::new(), None));
    }
    // A history read counts as a delivery: ask Redis how many these entries have had.
    let deliveries = match history {
        None => Vec::new(),
        Some(_) => {
            let (first, last) = (&raw[0].id, &raw[raw.len() - 1].id);
            let pending: StreamPendingCountReply = redis::cmd("XPENDING")
                .arg(&keys.stream)
                .arg(&keys.group)
                .arg(first)
                .arg(last)
                .arg(raw.len())
                .arg(bus.node())
                .query_async(conn)
                .await?;
            pending.ids.into_iter().map(|p| (p.id, p.times_delivered as u64)).collect()
        }
    };
    let mut entries = Vec::with_capacity(raw.len());
    let mut redelivered = 0;
    for r in &raw {
        let times = deliveries.iter().find(|(id, _)| *id == r.id).map_or(1, |(_, n)| *n);
        match codec::decode(r, times) {
            // A node that keeps dying on an entry reads it again and again: poison.
            Ok(e) if e.deliveries > bus.inner.config.max_deliveries => {
                poison(bus, &e).await?;
            }
            // Read again after trouble while this node still works on it: not a redelivery.
            Ok(e) if bus.inner.acks.is_open(&e.id) => {}
            Ok(e) => {
                if e.deliveries > 1 {
                    redelivered += e.readings.len() as u64;
                }
                entries.push(e);
            }
            // Kept whole as a letter and acknowledged: never pending for ever, never gone.
            Err(e) => {
                corrupt(bus, r, &e.to_string()).await?;
            }
        }
    }
    if redelivered > 0 {
        let () = redis::cmd("HINCRBY")
            .arg(&keys.ledger)
            .arg("redelivered")
            .arg(redelivered)
            .query_async(conn)
            .await?;
        tracing::info!(events = redelivered, "redelivering this node's own pending entries");
    }
    let last = raw.last().map(|r| r.id.clone());
    Ok((entries, last))
}
