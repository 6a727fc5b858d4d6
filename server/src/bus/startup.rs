//! What a node checks when it joins: the server's version, persistence and eviction policy
//! ([`ServerFacts`]), and whether its name is free, or held by a dead incarnation of itself
//! ([`take_over_name`]).

use super::BusError;
use super::config::{BusConfig, Keys};
use super::handle::heartbeat_value;
use redis::aio::ConnectionManager;
use std::time::Duration;

/// What the server said about itself at start.
#[derive(Clone, Debug)]
pub(crate) struct ServerFacts {
    pub version: String,
    /// `appendonly yes/no` (`unknown` when `CONFIG` is not allowed).
    pub appendonly: String,
    pub appendfsync: String,
    /// Anything but `noeviction` may evict the stream or a live node's heartbeat.
    pub maxmemory_policy: String,
}

/// `major.minor` of a version string at least 6.2.
pub(crate) fn recent_enough(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (6, 2)
}

impl ServerFacts {
    /// The persistence mode in a few words: `aof everysec`, or `none (appendonly no)`.
    pub(crate) fn persistence(&self) -> String {
        if self.appendonly == "yes" {
            format!("aof {}", self.appendfsync)
        } else {
            format!("none (appendonly {})", self.appendonly)
        }
    }
}

/// The name's heartbeat key exists: refused if its holder still refreshes it; taken over if it
/// decays like a dead holder's (a node killed and restarted under its name before the TTL ran
/// out: it then finishes its own pending entries, and nobody claims them).
pub(crate) async fn take_over_name(
    conn: &mut ConnectionManager,
    config: &BusConfig,
    keys: &Keys,
    joined_ms: u64,
) -> Result<(), BusError> {
    let ttl = config.heartbeat_ttl;
    let taken = || BusError::NameTaken {
        name: config.node.clone(),
        key: keys.heartbeat.clone(),
        ttl_ms: ttl.as_millis() as u64,
    };
    // A live holder refreshes every third of the TTL: watch a little longer than that.
    let watch = ttl / 3 + Duration::from_millis(200);
    let before: i64 = redis::cmd("PTTL").arg(&keys.heartbeat).query_async(conn).await?;
    tokio::time::sleep(watch).await;
    let after: i64 = redis::cmd("PTTL").arg(&keys.heartbeat).query_async(conn).await?;
    let value = heartbeat_value(config, joined_ms);
    let mut set = redis::cmd("SET");
    set.arg(&keys.heartbeat).arg(&value).arg("PX").arg(ttl.as_millis() as u64);
    if after == -2 {
        set.arg("NX"); // expired meanwhile: take it, unless someone else just did
    } else if after > before - watch.as_millis() as i64 / 2 {
        return Err(taken()); // it decayed less than it would have without a refresh
    } else {
        tracing::warn!(node = %config.node, "taking over the name of a dead incarnation (its heartbeat was not refreshed)");
    }
    let done: Option<String> = set.query_async(conn).await?;
    done.map(|_| ()).ok_or_else(taken)
}

/// Version and persistence, from `INFO server` and `CONFIG GET`.
pub(crate) async fn server_facts(conn: &mut ConnectionManager) -> Result<ServerFacts, BusError> {
    let info: String = redis::cmd("INFO").arg("server").query_async(conn).await?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .map_or_else(|| "unknown".to_owned(), |v| v.trim().to_owned());
    let config = |name: &'static str| {
        let mut conn = conn.clone();
        async move {
            let pair: Result<Vec<String>, _> =
                redis::cmd("CONFIG").arg("GET").arg(name).query_async(&mut conn).await;
            pair.ok().and_then(|p| p.get(1).cloned()).unwrap_or_else(|| "unknown".into())
        }
    };
    Ok(ServerFacts {
        version,
        appendonly: config("appendonly").await,
        appendfsync: config("appendfsync").await,
        maxmemory_policy: config("maxmemory-policy").await,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_before_6_2_are_too_old() {
        for ok in ["6.2.0", "7.0.15", "7.2", "10.0.1"] {
            assert!(recent_enough(ok), "{ok}");
        }
        for old in ["6.0.16", "5.0.7", "unknown", ""] {
            assert!(!recent_enough(old), "{old}");
        }
    }
}
