//! Who is alive, and what happens to a dead node's work. Each node refreshes its heartbeat
//! key (TTL) every third of the TTL; consumer idle times are not used (on Redis 7.0 an empty
//! read does not reset them). One node at a time holds the reaper lease: it claims the pending
//! entries of consumers whose heartbeat expired (after a grace of one TTL since any trouble, so
//! a Redis outage does not make everyone look dead), dead-letters entries delivered more than
//! `max_deliveries` times as poison, removes dead consumers left with nothing pending, and
//! trims the stream below the oldest entry still needed. A planned leave flushes the acks and
//! deletes the heartbeat: nobody waits for the TTL, nothing is redelivered.

use super::RedisBus;
use super::acks::{flush_all, flush_loop};
use super::codec::{self, Entry};
use super::config::heartbeat_key;
use super::handle::heartbeat_with_controls;
use super::letters::{corrupt, poison};
use super::scripts::{LEASE, RELEASE};
use redis::streams::{
    StreamClaimReply, StreamInfoConsumersReply, StreamInfoGroupsReply, StreamPendingCountReply,
    StreamPendingReply,
};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

impl RedisBus {
    /// Starts the heartbeat, the reaper (handing claimed entries to `claims`) and the ack
    /// flusher.
    pub(crate) fn start_tasks(&self, claims: mpsc::Sender<Entry>) {
        self.inner.tasks.spawn(heartbeat_loop(self.clone()));
        self.inner.tasks.spawn(reaper_loop(self.clone(), claims));
        self.inner.tasks.spawn(flush_loop(self.clone()));
    }

    /// Leaves the cluster after the pipeline drained: sends the last acks (until `timeout`),
    /// stops the tasks, removes this node's consumer if it holds nothing, deletes its
    /// heartbeat and gives up the lease. Returns the entries whose ack could not be sent
    /// (they stay pending and are redelivered by another node).
    pub async fn leave(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let left = flush_all(self, deadline).await;
        self.inner.stop.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout_at(deadline, self.inner.tasks.wait()).await.is_err() {
            tracing::warn!("bus tasks still running at the end of the drain");
        }
        let keys = &self.inner.keys;
        let mut conn = self.conn();
        let pending = own_pending(self).await.unwrap_or(u64::MAX);
        if pending == 0 {
            let _: Result<u64, _> = redis::cmd("XGROUP")
                .arg("DELCONSUMER")
                .arg(&keys.stream)
                .arg(&keys.group)
                .arg(self.node())
                .query_async(&mut conn)
                .await;
        }
        let _: Result<u64, _> = redis::cmd("DEL").arg(&keys.heartbeat).query_async(&mut conn).await;
        let _: Result<u64, _> = RELEASE.key(&keys.reaper).arg(self.node()).invoke_async(&mut conn).await;
        tracing::info!(node = %self.node(), unsent_acks = left, pending, "left the cluster");
        left
    }
}

/// Ticks every third of a heartbeat TTL; a late tick delays the next rather than bursting.
fn third_of_ttl(bus: &RedisBus) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(bus.inner.config.heartbeat_ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Waits for the next tick; `false` once the bus is stopping.
async fn next_tick(bus: &RedisBus, tick: &mut tokio::time::Interval) -> bool {
    tokio::select! {
        () = bus.inner.stop.cancelled() => false,
        _ = tick.tick() => true,
    }
}

/// Refreshes the heartbeat every third of its TTL; a refresh that gets through clears the
/// degraded state.
async fn heartbeat_loop(bus: RedisBus) {
    let ttl = bus.inner.config.heartbeat_ttl;
    let mut tick = third_of_ttl(&bus);
    while next_tick(&bus, &mut tick).await {
        // Rebuilt each beat: it carries the controls this node runs with now.
        let value = heartbeat_with_controls(&bus.inner.config, bus.inner.joined_ms, &bus.applied_controls());
        let set: Result<(), _> = redis::cmd("SET")
            .arg(&bus.inner.keys.heartbeat)
            .arg(&value)
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut bus.conn())
            .await;
        match set {
            Ok(()) => bus.healthy(),
            Err(e) => bus.trouble(&e),
        }
    }
}

/// Every third of a TTL: holds or takes the lease; with it, trims and (past the grace) claims.
async fn reaper_loop(bus: RedisBus, claims: mpsc::Sender<Entry>) {
    let ttl = bus.inner.config.heartbeat_ttl;
    let mut tick = third_of_ttl(&bus);
    while next_tick(&bus, &mut tick).await {
        let held: Result<u8, _> = LEASE
            .key(&bus.inner.keys.reaper)
            .arg(bus.node())
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut bus.conn())
            .await;
        let outcome = match held {
            Ok(1) => reap(&bus, &claims).await,
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            bus.trouble(&e);
        }
    }
}

/// One round of the lease holder: trim, then claim from dead consumers.
async fn reap(bus: &RedisBus, claims: &mpsc::Sender<Entry>) -> redis::RedisResult<()> {
    trim(bus).await?;
    if !bus.past_grace() {
        return Ok(());
    }
    let keys = &bus.inner.keys;
    let mut conn = bus.conn();
    let consumers = bus.consumers(&mut conn).await?;
    for c in consumers.consumers.iter().filter(|c| c.name != bus.node()) {
        let alive: bool = redis::cmd("EXISTS").arg(heartbeat_key(&c.name)).query_async(&mut conn).await?;
        if alive {
            continue;
        }
        if c.pending == 0 {
            let _: u64 = redis::cmd("XGROUP")
                .arg("DELCONSUMER")
                .arg(&keys.stream)
                .arg(&keys.group)
                .arg(&c.name)
                .query_async(&mut conn)
                .await?;
            tracing::info!(node = %c.name, "removed the consumer of a node that left");
            continue;
        }
        if claims.is_closed() {
            return Ok(()); // this node is draining: it takes on nothing more
        }
        let room = claims.capacity();
        if room == 0 {
            return Ok(()); // this node's pipeline is busy with earlier claims: next round
        }
        claim_from(bus, &c.name, room, claims).await?;
    }
    Ok(())
}

/// Claims up to `room` pending entries of dead node `dead`; poison goes to the dead letters.
async fn claim_from(
    bus: &RedisBus,
    dead: &str,
    room: usize,
    claims: &mpsc::Sender<Entry>,
) -> redis::RedisResult<()> {
    let keys = &bus.inner.keys;
    let mut conn = bus.conn();
    let pending: StreamPendingCountReply = redis::cmd("XPENDING")
        .arg(&keys.stream)
        .arg(&keys.group)
        .arg("-")
        .arg("+")
        .arg(room)
        .arg(dead)
        .query_async(&mut conn)
        .await?;
    if pending.ids.is_empty() {
        return Ok(());
    }
    // Entries idle less than half a TTL cannot belong to a node dead for a whole TTL: someone
    // else claimed them just now.
    let min_idle = bus.inner.config.heartbeat_ttl.as_millis() as u64 / 2;
    let mut cmd = redis::cmd("XCLAIM");
    cmd.arg(&keys.stream).arg(&keys.group).arg(bus.node()).arg(min_idle);
    for p in &pending.ids {
        cmd.arg(&p.id);
    }
    let claimed: StreamClaimReply = cmd.query_async(&mut conn).await?;
    let mut poisoned = 0u64;
    let mut taken = Vec::new();
    for raw in &claimed.ids {
        let times = pending.ids.iter().find(|p| p.id == raw.id).map_or(1, |p| p.times_delivered as u64 + 1);
        let entry = match codec::decode(raw, times) {
            Ok(e) => e,
            Err(e) => {
                corrupt(bus, raw, &format!("claimed from {dead}: {e}")).await?;
                continue;
            }
        };
        if times > bus.inner.config.max_deliveries {
            poisoned += poison(bus, &entry).await?;
        } else {
            taken.push(entry);
        }
    }
    let entries = taken.len() as u64;
    let events: u64 = taken.iter().map(|e| e.readings.len() as u64).sum();
    // Counted before they are handed on: the cluster view never shows them acknowledged and
    // not yet claimed. (If this fails they stay in this node's pending list: its reader reads
    // them again from 0 after the trouble.)
    if entries > 0 {
        let () = redis::pipe()
            .hincr(&keys.ledger, "claimed_entries", entries)
            .ignore()
            .hincr(&keys.ledger, "redelivered", events)
            .ignore()
            .query_async(&mut conn)
            .await?;
    }
    for entry in taken {
        if claims.try_send(entry).is_err() {
            tracing::error!("the claims channel had less room than counted");
        }
    }
    tracing::info!(from = %dead, entries, events, poisoned, "claimed the pending entries of a dead node");
    Ok(())
}

/// Trims entries below the oldest one still needed: the oldest pending, or (none pending) the
/// last delivered. Undelivered entries lie above the last delivered one, so none is removed.
async fn trim(bus: &RedisBus) -> redis::RedisResult<()> {
    let keys = &bus.inner.keys;
    let mut conn = bus.conn();
    let groups: StreamInfoGroupsReply =
        redis::cmd("XINFO").arg("GROUPS").arg(&keys.stream).query_async(&mut conn).await?;
    let Some(group) = groups.groups.iter().find(|g| g.name == keys.group) else { return Ok(()) };
    let summary: StreamPendingReply =
        redis::cmd("XPENDING").arg(&keys.stream).arg(&keys.group).query_async(&mut conn).await?;
    let floor = match &summary {
        StreamPendingReply::Data(d) if d.count > 0 => d.start_id.clone(),
        _ => group.last_delivered_id.clone(),
    };
    let _: u64 = redis::cmd("XTRIM")
        .arg(&keys.stream)
        .arg("MINID")
        .arg("~")
        .arg(&floor)
        .query_async(&mut conn)
        .await?;
    Ok(())
}

/// Entries pending for this node now.
async fn own_pending(bus: &RedisBus) -> redis::RedisResult<u64> {
    let consumers = bus.consumers(&mut bus.conn()).await?;
    Ok(consumers.consumers.iter().find(|c| c.name == bus.node()).map_or(0, |c| c.pending as u64))
}

impl RedisBus {
    /// The group's consumers (`XINFO CONSUMERS`): each node's pending count and idle time.
    pub(crate) async fn consumers(
        &self,
        conn: &mut redis::aio::ConnectionManager,
    ) -> redis::RedisResult<StreamInfoConsumersReply> {
        let keys = &self.inner.keys;
        redis::cmd("XINFO").arg("CONSUMERS").arg(&keys.stream).arg(&keys.group).query_async(conn).await
    }
}
