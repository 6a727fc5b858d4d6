//! What the bus is told at start (`BusConfig`, from the settings), the `--bus` value, and the
//! names of every key the bus touches in Redis, in one place.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The `--bus` setting: the in-process pub/sub, or a Redis server's URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusSetting {
    /// One process, nothing else to run (the default).
    Embedded,
    /// Nodes sharing a Redis Stream: the URL as given (`redis://host:port[/db]`).
    Redis(String),
}

impl FromStr for BusSetting {
    type Err = String;

    fn from_str(v: &str) -> Result<Self, String> {
        let v = v.trim();
        if v.eq_ignore_ascii_case("embedded") {
            return Ok(Self::Embedded);
        }
        if !(v.starts_with("redis://") || v.starts_with("rediss://")) {
            return Err("expected `embedded` or a URL redis://host:port".into());
        }
        redis::Client::open(v).map_err(|e| format!("not a Redis URL: {e}"))?;
        Ok(Self::Redis(v.to_owned()))
    }
}

impl fmt::Display for BusSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded => f.write_str("embedded"),
            Self::Redis(url) => f.write_str(url),
        }
    }
}

/// How one node joins the cluster.
#[derive(Clone, Debug)]
pub struct BusConfig {
    /// The Redis server.
    pub url: String,
    /// This node's name: its consumer in the group, its heartbeat and its ledger hash.
    pub node: String,
    /// Most events published and not yet final, cluster-wide, before ingest answers 503.
    pub backlog_bound: u64,
    /// Entries a node reads ahead of its pipeline's demand: what a dead node leaves to claim.
    pub read_ahead: usize,
    /// Most events in one entry: a bigger publish becomes several entries (one script call).
    pub entry_max: usize,
    /// Deliveries after which an entry is dead-lettered as poison instead of claimed again.
    pub max_deliveries: u64,
    /// How long a heartbeat lives; refreshed every third of it. A node without one is dead.
    pub heartbeat_ttl: Duration,
    /// Where this node listens, written into its heartbeat for the cluster view.
    pub addr: String,
    /// A test aid: a file every acknowledged event's id is appended to (`--record-acks`).
    pub record_acks: Option<std::path::PathBuf>,
}

impl BusConfig {
    /// The key names for this node.
    pub fn keys(&self) -> Keys {
        Keys::new(&self.node)
    }
}

/// Every Redis key of the bus. The prefix `pulse:` keeps them apart from other users of the
/// same database.
#[derive(Clone, Debug)]
pub struct Keys {
    /// The events stream: one entry per publish batch.
    pub stream: String,
    /// The consumer group every node reads through.
    pub group: String,
    /// Events published and not yet final, cluster-wide (the backlog bound's counter).
    pub backlog: String,
    /// Every node name that ever joined (the cluster view lists them).
    pub nodes: String,
    /// Who may claim dead nodes' entries and trim, now (a lease).
    pub reaper: String,
    /// The cluster's dead-letter queue: one stream entry per letter (`scripts.rs`).
    pub letters: String,
    /// The queue's `next_id` and `evicted` counters.
    pub letters_meta: String,
    /// This node's heartbeat.
    pub heartbeat: String,
    /// This node's ledger hash.
    pub ledger: String,
}

impl Keys {
    /// The keys as seen by node `node`.
    pub fn new(node: &str) -> Self {
        Self {
            stream: "pulse:events".into(),
            group: "pulse".into(),
            backlog: "pulse:backlog".into(),
            nodes: "pulse:nodes".into(),
            reaper: "pulse:reaper".into(),
            letters: "pulse:letters".into(),
            letters_meta: "pulse:letters:meta".into(),
            heartbeat: heartbeat_key(node),
            ledger: ledger_key(node),
        }
    }
}

/// Node `node`'s heartbeat key.
pub(crate) fn heartbeat_key(node: &str) -> String {
    format!("pulse:node:{node}")
}

/// Node `node`'s ledger hash.
pub(crate) fn ledger_key(node: &str) -> String {
    format!("pulse:ledger:{node}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_values() {
        assert_eq!("embedded".parse::<BusSetting>(), Ok(BusSetting::Embedded));
        assert_eq!("EMBEDDED".parse::<BusSetting>(), Ok(BusSetting::Embedded));
        assert_eq!(
            "redis://127.0.0.1:6379".parse::<BusSetting>(),
            Ok(BusSetting::Redis("redis://127.0.0.1:6379".into()))
        );
        assert!("nats://x".parse::<BusSetting>().is_err());
        assert!("127.0.0.1:6379".parse::<BusSetting>().is_err());
        assert_eq!(BusSetting::Embedded.to_string(), "embedded");
    }

    #[test]
    fn keys_are_per_node_where_they_must_be() {
        let (a, b) = (Keys::new("a"), Keys::new("b"));
        assert_eq!(a.stream, b.stream);
        assert_eq!(a.group, b.group);
        assert_ne!(a.heartbeat, b.heartbeat);
        assert_eq!(a.ledger, "pulse:ledger:a");
    }
}
