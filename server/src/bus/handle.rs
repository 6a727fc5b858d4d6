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
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Publishes at most this many batches at once for callers that cannot wait (the simulator,
/// server functions): beyond it they are refused at once, as a full pipeline refuses them,
/// and the simulator counts them dropped. Few: at saturation (2M readings/s offered in
/// single-event entries) 64 queued 20,000-entry scripts kept Redis busy past the 2 s response
/// timeout, and their outcome was unknown; with 8 the queue stays well under it.
pub(crate) const DETACHED_PUBLISHES: usize = 8;

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
    /// No node is declared dead before one heartbeat TTL (+ 1 s) after start or any trouble,
    /// so that after a reconnect every node has had time to heartbeat again.
    grace: Grace,
    /// The server's version and persistence, as found at start.
    pub facts: ServerFacts,
    /// Entries finished by the pipeline, waiting for their `XACK`.
    pub acks: Arc<Tracker>,
    /// Ends the bus's tasks (heartbeat, reaper, reader, ack flusher).
    pub stop: CancellationToken,
    pub tasks: TaskTracker,
    detached: Arc<Semaphore>,
    /// Events of detached publishes Redis did not take because it was unreachable (logged;
    /// the caller had been told "taken").
    pub lost_publishes: AtomicU64,
    /// Events of detached publishes the backlog bound refused (back-pressure, not a fault).
    pub refused_publishes: AtomicU64,
    /// The backlog as the last publish saw it: past the bound, the next publish asks Redis
    /// with a `GET` first instead of sending its whole batch to be refused.
    backlog_seen: AtomicU64,
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
        let grace = Grace::new(config.heartbeat_ttl + Duration::from_secs(1));
        Ok(Self {
            inner: Arc::new(Inner {
                keys,
                client,
                conn,
                trouble: Mutex::new(None),
                grace,
                facts,
                acks: Arc::new(Tracker::default()),
                stop: CancellationToken::new(),
                tasks: TaskTracker::new(),
                detached: Arc::new(Semaphore::new(DETACHED_PUBLISHES)),
                lost_publishes: AtomicU64::new(0),
                refused_publishes: AtomicU64::new(0),
                backlog_seen: AtomicU64::new(0),
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

    /// Puts `readings` into the stream, once Redis confirmed it: as one entry, or as several of
    /// at most `--bus-entry-max` events added in one atomic step. Returns the last entry's id
    /// and the backlog after it. Past the backlog bound nothing is added ([`BusError::Backlog`]).
    pub async fn publish(&self, readings: &[SensorReading]) -> Result<(String, u64), BusError> {
        if self.inner.stop.is_cancelled() {
            return Err(BusError::Closed);
        }
        // Degraded: refuse at once (503, retry) rather than hold the request through the
        // reconnect; the next heartbeat that gets through (≤ a third of the TTL) ends it.
        if let Some(why) = self.degraded() {
            return Err(BusError::Degraded(why));
        }
        let bound = self.inner.config.backlog_bound;
        let n = readings.len() as u64;
        // Full when last seen: a refusal must not cost Redis a parse of the whole batch (at
        // saturation, refused batches took most of Redis' CPU: 5k events/s instead of 60k).
        if self.inner.backlog_seen.load(Ordering::Relaxed) + n > bound {
            let backlog: Option<u64> =
                match redis::cmd("GET").arg(&self.inner.keys.backlog).query_async(&mut self.conn()).await {
                    Ok(b) => b,
                    Err(e) => {
                        self.trouble(&e);
                        return Err(e.into());
                    }
                };
            let backlog = backlog.unwrap_or(0);
            self.inner.backlog_seen.store(backlog, Ordering::Relaxed);
            if backlog + n > bound {
                return Err(BusError::Backlog { backlog, bound });
            }
        }
        let entries = codec::encode_entries(readings, self.inner.config.entry_max)?;
        let keys = &self.inner.keys;
        let mut call = PUBLISH.prepare_invoke();
        call.key(&keys.stream)
            .key(&keys.backlog)
            .key(&keys.ledger)
            .arg(self.inner.config.backlog_bound)
            .arg(readings.len())
            .arg(self.node());
        for (n, data) in entries {
            call.arg(n).arg(data);
        }
        let outcome: Result<(u8, String, u64), _> = call.invoke_async(&mut self.conn()).await;
        if let Ok((_, _, backlog)) = &outcome {
            self.inner.backlog_seen.store(*backlog, Ordering::Relaxed);
        }
        match outcome {
            Ok((1, id, backlog)) => Ok((id, backlog)),
            Ok((_, _, backlog)) => Err(BusError::Backlog { backlog, bound }),
            Err(e) => {
                self.trouble(&e);
                Err(e.into())
            }
        }
    }

    /// Publishes without waiting, for callers that cannot (the simulator, server functions,
    /// replay): at most [`DETACHED_PUBLISHES`] at once, beyond that refused ([`BusError::Busy`]).
    /// What Redis then refuses is counted: `refused_publishes` past the backlog bound,
    /// `lost_publishes` (and logged) when Redis was unreachable.
    pub(crate) fn publish_detached(&self, readings: Vec<SensorReading>) -> Result<u64, BusError> {
        if self.inner.stop.is_cancelled() {
            return Err(BusError::Closed);
        }
        let n = readings.len() as u64;
        let permit =
            self.inner.detached.clone().try_acquire_owned().map_err(|_| BusError::Busy { events: n })?;
        let bus = self.clone();
        self.inner.tasks.spawn(async move {
            match bus.publish(&readings).await {
                Ok(_) => {}
                Err(BusError::Backlog { .. }) => {
                    bus.inner.refused_publishes.fetch_add(n, Ordering::Relaxed);
                }
                Err(e) => {
                    bus.inner.lost_publishes.fetch_add(n, Ordering::Relaxed);
                    tracing::warn!("a detached publish of {n} events was not taken: {e}");
                }
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
        self.inner.grace.push();
    }

    /// Whether nodes may be declared dead now (the grace after start or trouble is over).
    pub(crate) fn past_grace(&self) -> bool {
        self.inner.grace.past()
    }
}

/// The time before which no node may be declared dead: pushed `length` ahead at start, at any
/// trouble and when the trouble ends. On tokio's clock (tests pause it).
pub(crate) struct Grace {
    length: Duration,
    until: Mutex<tokio::time::Instant>,
}

impl Grace {
    pub(crate) fn new(length: Duration) -> Self {
        Self { length, until: Mutex::new(tokio::time::Instant::now() + length) }
    }

    /// From now on, `length` more.
    pub(crate) fn push(&self) {
        *self.until.lock().unwrap_or_else(|e| e.into_inner()) = tokio::time::Instant::now() + self.length;
    }

    pub(crate) fn past(&self) -> bool {
        tokio::time::Instant::now() >= *self.until.lock().unwrap_or_else(|e| e.into_inner())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn nobody_is_declared_dead_until_a_whole_grace_after_the_last_trouble() {
        let grace = Grace::new(Duration::from_secs(4));
        assert!(!grace.past(), "not at start: the others may not have heartbeaten yet");
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(grace.past());
        // Redis trouble, then its end 10 s later: each pushes the grace a whole length on.
        grace.push();
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(grace.past(), "trouble alone does not hold the reaper for ever");
        grace.push();
        tokio::time::advance(Duration::from_millis(3_999)).await;
        assert!(!grace.past(), "the others' heartbeats had less than a TTL to resume");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(grace.past());
    }
}
