//! [`RedisBus`]: the cheap-clone handle every part of the bus shares. Connecting checks the
//! server (version, persistence), creates the group and takes this node's name; publishing is
//! one atomic script per batch; the health flag is what `/healthz` reports.

use super::BusError;
use super::acks::Tracker;
use super::codec;
use super::config::{BusConfig, Keys};
use super::scripts::PUBLISH;
use super::startup::{ServerFacts, recent_enough, server_facts, take_over_name};
use app::model::SensorReading;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Publishes at most this many batches at once for callers that cannot wait (the simulator,
/// server functions, replay): beyond it they are refused, as a full pipeline refuses them.
pub(crate) const DETACHED_PUBLISHES: usize = 64;

/// A node's connection to the cluster: clone it freely, every clone is the same node.
#[derive(Clone)]
pub struct RedisBus {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: BusConfig,
    pub keys: Keys,
    /// For the dedicated (blocking read) connection.
    pub client: redis::Client,
    /// Every non-blocking command: multiplexed, reconnects on its own (no hidden retries).
    pub conn: ConnectionManager,
    /// Why the bus is degraded, if it is (`/healthz` answers 503 with it).
    trouble: Mutex<Option<String>>,
    /// No node is declared dead before this: one heartbeat TTL after any trouble, so that
    /// after a reconnect every node has had time to heartbeat again.
    grace_until: Mutex<Instant>,
    /// The server's version and persistence, as found at start.
    pub facts: ServerFacts,
    /// Entries finished by the pipeline, waiting for their `XACK`.
    pub acks: Arc<Tracker>,
    /// Ends the bus's tasks (heartbeat, reaper, reader, ack flusher).
    pub stop: CancellationToken,
    pub tasks: TaskTracker,
    detached: Arc<Semaphore>,
    /// Detached publishes Redis did not take (logged; the caller had been told "taken").
    pub lost_publishes: AtomicU64,
    /// Unix ms when this node joined.
    pub joined_ms: u64,
    /// Broadcasts sent to and received from other nodes.
    pub broadcast: Arc<super::broadcast::Counters>,
    /// How controls for every node are applied here and reported (`controls.rs`).
    pub controls: std::sync::OnceLock<super::controls::Hooks>,
}

/// Unix time in milliseconds.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl RedisBus {
    /// Connects, checks the server (refuses Redis < 6.2 and an evicting `maxmemory-policy`,
    /// warns when persistence is off),
    /// creates the stream and group if missing, and takes this node's name (refused while a
    /// live node holds it).
    pub async fn connect(config: BusConfig) -> Result<Self, BusError> {
        let client = redis::Client::open(config.url.as_str())?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_max_delay(Duration::from_secs(2));
        let mut conn = ConnectionManager::new_with_config(client.clone(), manager).await?;
        let facts = server_facts(&mut conn).await?;
        if !recent_enough(&facts.version) {
            return Err(BusError::TooOld { found: facts.version });
        }
        if !matches!(facts.maxmemory_policy.as_str(), "noeviction" | "unknown") {
            return Err(BusError::Evicting { policy: facts.maxmemory_policy });
        }
        if facts.appendonly != "yes" {
            tracing::warn!(
                appendonly = %facts.appendonly,
                "redis persistence is off (appendonly {}): a Redis crash loses events Pulse \
                 acknowledged; run redis-server with --appendonly yes",
                facts.appendonly
            );
        }
        let keys = config.keys();
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&keys.stream)
            .arg(&keys.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => return Err(e.into()),
            _ => {}
        }
        let ttl_ms = config.heartbeat_ttl.as_millis() as u64;
        let joined_ms = unix_ms();
        let taken: Option<String> = redis::cmd("SET")
            .arg(&keys.heartbeat)
            .arg(heartbeat_value(&config, joined_ms))
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut conn)
            .await?;
        if taken.is_none() {
            take_over_name(&mut conn, &config, &keys, joined_ms).await?;
        }
        let () = redis::cmd("SADD").arg(&keys.nodes).arg(&config.node).query_async(&mut conn).await?;
        tracing::info!(
            node = %config.node,
            redis = %facts.version,
            appendonly = %facts.appendonly,
            "joined the cluster on {}",
            config.url
        );
        let grace = Instant::now() + config.heartbeat_ttl + Duration::from_secs(1);
        Ok(Self {
            inner: Arc::new(Inner {
                keys,
                client,
                conn,
                trouble: Mutex::new(None),
                grace_until: Mutex::new(grace),
                facts,
                acks: Arc::new(Tracker::default()),
                stop: CancellationToken::new(),
                tasks: TaskTracker::new(),
                detached: Arc::new(Semaphore::new(DETACHED_PUBLISHES)),
                lost_publishes: AtomicU64::new(0),
                joined_ms,
                broadcast: Arc::default(),
                controls: std::sync::OnceLock::new(),
                config,
            }),
        })
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.inner.config.node
    }

    /// The settings the bus runs with.
    pub fn config(&self) -> &BusConfig {
        &self.inner.config
    }

    /// A fresh handle on the multiplexed connection (cheap).
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// Puts `readings` into the stream as one entry, once Redis confirmed it: the entry id and
    /// the backlog after it. Past the backlog bound nothing is added ([`BusError::Backlog`]).
    pub async fn publish(&self, readings: &[SensorReading]) -> Result<(String, u64), BusError> {
        if self.inner.stop.is_cancelled() {
            return Err(BusError::Closed);
        }
        // Degraded: refuse at once (503, retry) rather than hold the request through the
        // reconnect; the next heartbeat that gets through (≤ a third of the TTL) ends it.
        if let Some(why) = self.degraded() {
            return Err(BusError::Degraded(why));
        }
        let [n, origin, data] = codec::encode(self.node(), readings)?;
        let keys = &self.inner.keys;
        let outcome: Result<(u8, String, u64), _> = PUBLISH
            .key(&keys.stream)
            .key(&keys.backlog)
            .key(&keys.ledger)
            .arg(self.inner.config.backlog_bound)
            .arg(n.1)
            .arg(origin.1)
            .arg(data.1)
            .invoke_async(&mut self.conn())
            .await;
        match outcome {
            Ok((1, id, backlog)) => Ok((id, backlog)),
            Ok((_, _, backlog)) => Err(BusError::Backlog { backlog, bound: self.inner.config.backlog_bound }),
            Err(e) => {
                self.trouble(&e);
                Err(e.into())
            }
        }
    }

    /// Publishes without waiting, for callers that cannot (the simulator, server functions,
    /// replay): at most [`DETACHED_PUBLISHES`] at once, beyond that refused ([`BusError::Busy`]).
    /// What Redis then refuses is logged and counted in `lost_publishes`.
    pub(crate) fn publish_detached(&self, readings: Vec<SensorReading>) -> Result<u64, BusError> {
        if self.inner.stop.is_cancelled() {
            return Err(BusError::Closed);
        }
        let n = readings.len() as u64;
        let permit =
            self.inner.detached.clone().try_acquire_owned().map_err(|_| BusError::Busy { events: n })?;
        let bus = self.clone();
        self.inner.tasks.spawn(async move {
            if let Err(e) = bus.publish(&readings).await {
                bus.inner.lost_publishes.fetch_add(n, Ordering::Relaxed);
                tracing::warn!("a detached publish of {n} events was not taken: {e}");
            }
            drop(permit);
        });
        Ok(n)
    }

    /// Why the bus is degraded now, if it is.
    pub fn degraded(&self) -> Option<String> {
        self.inner.trouble.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records trouble talking to Redis: degraded until the next heartbeat gets through, and
    /// no claims until one TTL after that.
    pub(crate) fn trouble(&self, e: &redis::RedisError) {
        let why = format!("redis unreachable: {e}");
        let mut t = self.inner.trouble.lock().unwrap_or_else(|e| e.into_inner());
        if t.is_none() {
            tracing::warn!("bus degraded: {why}");
        }
        *t = Some(why);
        drop(t);
        self.push_grace();
    }

    /// A command got through: not degraded (any more).
    pub(crate) fn healthy(&self) {
        let mut t = self.inner.trouble.lock().unwrap_or_else(|e| e.into_inner());
        if t.take().is_some() {
            tracing::info!("bus healthy again");
            drop(t);
            self.push_grace();
        }
    }

    fn push_grace(&self) {
        let until = Instant::now() + self.inner.config.heartbeat_ttl + Duration::from_secs(1);
        *self.inner.grace_until.lock().unwrap_or_else(|e| e.into_inner()) = until;
    }

    /// Whether nodes may be declared dead now (the grace after start or trouble is over).
    pub(crate) fn past_grace(&self) -> bool {
        Instant::now() >= *self.inner.grace_until.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// This node's heartbeat value: JSON with where it listens, its pid and when it joined.
pub(crate) fn heartbeat_value(config: &BusConfig, joined_ms: u64) -> String {
    heartbeat_with_controls(config, joined_ms, "")
}

/// The heartbeat with the controls this node runs with (`controls.rs`), in words.
pub(crate) fn heartbeat_with_controls(config: &BusConfig, joined_ms: u64, controls: &str) -> String {
    serde_json::json!({ "addr": config.addr, "pid": std::process::id(), "joined_ms": joined_ms, "controls": controls })
        .to_string()
}
