//! The cluster as one ledger: `GET /api/cluster` on any node reads every node's heartbeat and
//! ledger hash from Redis and adds them up; in embedded mode it answers this one node from its
//! local ledger. The total balances when `published = processed + failed + dead_lettered +
//! in_flight` (in flight: published and not yet final, cluster-wide).

use super::RedisBus;
use super::config::{heartbeat_key, ledger_key};
use redis::streams::StreamInfoGroupsReply;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// One node's counters (its ledger hash in Redis).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLedger {
    /// Events this node put into the stream.
    pub published: u64,
    /// Events of entries this node acknowledged that were processed.
    pub processed: u64,
    /// Events of entries this node acknowledged that failed (their letters committed).
    pub failed: u64,
    /// Events of poison entries this node dead-lettered.
    pub dead_lettered: u64,
    /// Entries this node acked after another node had already (a late ack: a duplicate).
    pub duplicate_entries: u64,
    /// The events of those entries.
    pub duplicate_events: u64,
    /// Entries this node took over from dead nodes.
    pub claimed_entries: u64,
    /// Events delivered to this node again: claimed, or its own pending ones after a restart.
    pub redelivered: u64,
    /// Events this node put back from the dead-letter queue (in `published` too).
    pub replayed: u64,
    /// Entries that did not decode, kept whole as letters (not in the balance: no node's
    /// script published them).
    pub corrupt_entries: u64,
}

impl NodeLedger {
    fn from_hash(h: &HashMap<String, u64>) -> Self {
        let f = |k: &str| h.get(k).copied().unwrap_or(0);
        Self {
            published: f("published"),
            processed: f("processed"),
            failed: f("failed"),
            dead_lettered: f("dead_lettered"),
            duplicate_entries: f("duplicate_entries"),
            duplicate_events: f("duplicate_events"),
            claimed_entries: f("claimed_entries"),
            redelivered: f("redelivered"),
            replayed: f("replayed"),
            corrupt_entries: f("corrupt_entries"),
        }
    }

    fn add(&mut self, o: &Self) {
        self.published += o.published;
        self.processed += o.processed;
        self.failed += o.failed;
        self.dead_lettered += o.dead_lettered;
        self.duplicate_entries += o.duplicate_entries;
        self.duplicate_events += o.duplicate_events;
        self.claimed_entries += o.claimed_entries;
        self.redelivered += o.redelivered;
        self.replayed += o.replayed;
        self.corrupt_entries += o.corrupt_entries;
    }

    /// Events with a final outcome.
    pub fn finished(&self) -> u64 {
        self.processed + self.failed + self.dead_lettered
    }
}

/// One node as the cluster sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeView {
    /// Its `--node-name`: its consumer in the group.
    pub name: String,
    /// `alive` (heartbeat key present), `dead` (gone, entries still pending: a claim is due)
    /// or `left` (gone, nothing pending).
    pub status: String,
    /// Time since its last heartbeat, while it has one.
    pub heartbeat_age_ms: Option<u64>,
    /// Where it listens (from its heartbeat).
    pub addr: Option<String>,
    /// Entries delivered to it and not yet acknowledged.
    pub pending_entries: u64,
    /// Its counters (its ledger hash).
    pub ledger: NodeLedger,
    /// The controls it runs with, in words (from its heartbeat).
    pub controls: Option<String>,
}

/// The whole cluster, as `GET /api/cluster` answers it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterView {
    /// `redis` or `embedded`.
    pub bus: String,
    /// The node that answered.
    pub node: String,
    /// Redis' version (redis mode).
    pub redis_version: Option<String>,
    /// Redis' persistence (`aof everysec`, `none (appendonly no)`): whether a Redis crash can
    /// lose acknowledged events.
    pub persistence: Option<String>,
    /// Every node that ever joined, by name.
    pub nodes: Vec<NodeView>,
    /// The sum of every node's ledger (a dead node's figures stay in it).
    pub total: NodeLedger,
    /// Events published and not yet final, cluster-wide.
    pub in_flight: u64,
    /// Entries in the stream (acknowledged ones stay until the reaper trims them).
    pub stream_length: u64,
    /// Entries delivered and not yet acknowledged, cluster-wide.
    pub pending_entries: u64,
    /// Entries not yet delivered to anyone (`None` if Redis cannot tell, after a trim).
    pub lag_entries: Option<u64>,
    /// Letters in the cluster's dead-letter queue (embedded: this node's).
    pub dead_letters: u64,
    /// Letters evicted from it because it was full: with `dead_letters`, every letter ever
    /// written (`failed + dead_lettered`, once each, when none was purged or replayed).
    pub dead_letters_evicted: u64,
    /// `published = processed + failed + dead_lettered + in_flight`.
    pub balances: bool,
    /// Why this node's bus is degraded, if it is.
    pub degraded: Option<String>,
    /// Events this node's detached publishes (simulator, server functions, replay) could not
    /// put into Redis: they had been taken, and are lost (logged).
    pub lost_publishes: u64,
    /// Events this node's detached publishes offered that the backlog bound refused
    /// (back-pressure: the simulator's excess at saturation).
    pub refused_publishes: u64,
    /// This node's broadcasts across nodes: items sent, received, dropped; resubscriptions.
    pub broadcast: BroadcastFigures,
}

/// This node's cross-node broadcasts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastFigures {
    /// Items this node published for the other nodes.
    pub sent: u64,
    /// Items received from other nodes and delivered here.
    pub received: u64,
    /// Items not sent (outbox full, `PUBLISH` failed) or not delivered here in time.
    pub dropped: u64,
    /// Resubscriptions: windows in which broadcasts may have been missed.
    pub gaps: u64,
}

impl RedisBus {
    /// Reads the cluster view from Redis.
    pub async fn cluster(&self) -> Result<ClusterView, super::BusError> {
        let keys = &self.inner.keys;
        let mut conn = self.conn();
        let names: Vec<String> = redis::cmd("SMEMBERS").arg(&keys.nodes).query_async(&mut conn).await?;
        let consumers = self.consumers(&mut conn).await?;
        let groups: StreamInfoGroupsReply =
            redis::cmd("XINFO").arg("GROUPS").arg(&keys.stream).query_async(&mut conn).await?;
        let group = groups.groups.iter().find(|g| g.name == keys.group);
        let (stream_length, dead_letters, dead_letters_evicted): (u64, u64, Option<u64>) = redis::pipe()
            .cmd("XLEN")
            .arg(&keys.stream)
            .cmd("XLEN")
            .arg(&keys.letters)
            .hget(&keys.letters_meta, "evicted")
            .query_async(&mut conn)
            .await?;
        let in_flight: Option<i64> = redis::cmd("GET").arg(&keys.backlog).query_async(&mut conn).await?;
        let ttl = self.inner.config.heartbeat_ttl.as_millis() as i64;
        let mut nodes = Vec::with_capacity(names.len());
        let mut total = NodeLedger::default();
        for name in names {
            let (beat, pttl, hash): (Option<String>, i64, HashMap<String, u64>) = redis::pipe()
                .get(heartbeat_key(&name))
                .pttl(heartbeat_key(&name))
                .hgetall(ledger_key(&name))
                .query_async(&mut conn)
                .await?;
            let ledger = NodeLedger::from_hash(&hash);
            total.add(&ledger);
            let pending_entries =
                consumers.consumers.iter().find(|c| c.name == name).map_or(0, |c| c.pending as u64);
            let status = match (&beat, pending_entries) {
                (Some(_), _) => "alive",
                (None, 0) => "left",
                (None, _) => "dead",
            };
            let beat_json = beat.as_deref().and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok());
            let addr = beat_json.as_ref().and_then(|v| v["addr"].as_str().map(str::to_owned));
            let controls = beat_json
                .as_ref()
                .and_then(|v| v["controls"].as_str().filter(|c| !c.is_empty()).map(str::to_owned));
            nodes.push(NodeView {
                name,
                status: status.into(),
                heartbeat_age_ms: beat.is_some().then(|| (ttl - pttl).max(0) as u64),
                addr,
                pending_entries,
                ledger,
                controls,
            });
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let in_flight = in_flight.unwrap_or(0).max(0) as u64;
        Ok(ClusterView {
            bus: "redis".into(),
            node: self.node().to_owned(),
            redis_version: Some(self.inner.facts.version.clone()),
            persistence: Some(self.inner.facts.persistence()),
            balances: total.published == total.finished() + in_flight,
            nodes,
            total,
            in_flight,
            stream_length,
            pending_entries: group.map_or(0, |g| g.pending as u64),
            lag_entries: group.and_then(|g| g.lag.map(|l| l as u64)),
            dead_letters,
            dead_letters_evicted: dead_letters_evicted.unwrap_or(0),
            degraded: self.degraded(),
            lost_publishes: self.inner.lost_publishes.load(Ordering::Relaxed),
            refused_publishes: self.inner.refused_publishes.load(Ordering::Relaxed),
            broadcast: {
                let b = &self.inner.broadcast;
                BroadcastFigures {
                    sent: b.sent.load(Ordering::Relaxed),
                    received: b.received.load(Ordering::Relaxed),
                    dropped: b.dropped.load(Ordering::Relaxed),
                    gaps: b.gaps.load(Ordering::Relaxed),
                }
            },
        })
    }
}

/// This one node as a cluster (embedded mode), from its own ledger.
pub(crate) fn embedded_view(s: &app::model::StatsSnapshot) -> ClusterView {
    let ledger = NodeLedger {
        published: s.published,
        processed: s.processed,
        failed: s.failed,
        ..NodeLedger::default()
    };
    ClusterView {
        bus: "embedded".into(),
        node: "embedded".into(),
        redis_version: None,
        persistence: None,
        nodes: vec![NodeView {
            name: "embedded".into(),
            status: "alive".into(),
            heartbeat_age_ms: None,
            addr: None,
            pending_entries: 0,
            ledger: ledger.clone(),
            controls: None,
        }],
        balances: s.balances(),
        in_flight: s.in_flight,
        total: ledger,
        stream_length: 0,
        pending_entries: 0,
        lag_entries: None,
        dead_letters: s.dead_letters.stored,
        dead_letters_evicted: s.dead_letters.evicted,
        degraded: None,
        lost_publishes: 0,
        refused_publishes: 0,
        broadcast: BroadcastFigures::default(),
    }
}
