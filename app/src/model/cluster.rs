//! The cluster as the dashboard's Cluster tab shows it: every node sharing the work through
//! Redis, each node's ledger and the total, and the bus itself. The server maps its bus's
//! view (`server::bus::ClusterView`, also `GET /api/cluster`) into these types; in embedded
//! mode the cluster is this one node.

use serde::{Deserialize, Serialize};

/// One node's counters, or the cluster's total.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCounts {
    /// Events this node put into the stream.
    pub published: u64,
    pub processed: u64,
    pub failed: u64,
    /// Poison entries' events, dead-lettered after too many deliveries.
    pub dead_lettered: u64,
    /// Events acknowledged after another node had already: processed twice.
    pub duplicate_events: u64,
    /// Entries taken over from dead nodes.
    pub claimed_entries: u64,
    /// Events handed out again (claimed, or re-read after a restart).
    pub redelivered: u64,
}

impl NodeCounts {
    /// Events with a final outcome.
    pub fn finished(&self) -> u64 {
        self.processed + self.failed + self.dead_lettered
    }
}

/// One node as the cluster sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterNode {
    pub name: String,
    /// `alive`, `dead` (heartbeat expired with entries pending: a claim is due) or `left`.
    pub status: String,
    /// Time since its last heartbeat, while it has one.
    pub heartbeat_age_ms: Option<u64>,
    /// Where it listens.
    pub addr: Option<String>,
    /// Entries delivered to it and not yet acknowledged.
    pub pending_entries: u64,
    pub counts: NodeCounts,
    /// The controls it runs with, in words (from its heartbeat).
    pub applied: Option<String>,
}

/// The cluster, from the node that answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// `redis` or `embedded`.
    pub bus: String,
    /// The node that answered: "you are on".
    pub node: String,
    pub redis_version: Option<String>,
    /// Redis' persistence, e.g. `aof everysec`, or `none (appendonly no)`.
    pub persistence: Option<String>,
    pub nodes: Vec<ClusterNode>,
    pub total: NodeCounts,
    /// Events published and not yet final, cluster-wide.
    pub in_flight: u64,
    /// Entries in the stream, delivered and pending, and not yet delivered (lag).
    pub stream_length: u64,
    pub pending_entries: u64,
    pub lag_entries: Option<u64>,
    /// Letters in the dead-letter queue: the cluster's one queue in Redis (embedded: this
    /// node's store).
    pub dead_letters: u64,
    /// `published = processed + failed + dead_lettered + in_flight`.
    pub balances: bool,
    /// Why this node's bus is degraded, if it is.
    pub degraded: Option<String>,
    /// This node's broadcasts across nodes: sent, received, dropped, reconnect gaps.
    pub broadcast: [u64; 4],
    /// Events this node's own publishes (simulator, page buttons, replay) could not put into
    /// Redis: counted and logged, never silent.
    pub lost_publishes: u64,
    /// Events this node's own publishes offered that the backlog bound refused.
    pub refused_publishes: u64,
}

/// Something that happened to the cluster, seen between two views of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterEvent {
    Joined(String),
    /// Its heartbeat expired with entries pending.
    Died(String),
    /// Gone with nothing pending (a planned shutdown).
    Left(String),
    /// Back (restarted under its name).
    Returned(String),
    /// Took over this many entries from dead nodes.
    Claimed(String, u64),
}

impl ClusterEvent {
    /// In words, for the timeline.
    pub fn describe(&self) -> String {
        match self {
            ClusterEvent::Joined(n) => format!("{n} joined"),
            ClusterEvent::Died(n) => format!("{n} died: its heartbeat expired with entries pending"),
            ClusterEvent::Left(n) => format!("{n} left (drained, nothing pending)"),
            ClusterEvent::Returned(n) => format!("{n} is back"),
            ClusterEvent::Claimed(n, k) => format!("{n} claimed {k} entries of dead nodes"),
        }
    }
}

/// What changed from `before` to `now`: joins, deaths, departures, returns and claims.
pub fn cluster_events(before: &ClusterInfo, now: &ClusterInfo) -> Vec<ClusterEvent> {
    let mut events = Vec::new();
    for node in &now.nodes {
        let name = node.name.clone();
        match before.nodes.iter().find(|b| b.name == node.name) {
            None => events.push(ClusterEvent::Joined(name)),
            Some(was) => {
                match (was.status.as_str(), node.status.as_str()) {
                    (a, b) if a == b => {}
                    (_, "dead") => events.push(ClusterEvent::Died(name.clone())),
                    (_, "left") => events.push(ClusterEvent::Left(name.clone())),
                    (_, "alive") => events.push(ClusterEvent::Returned(name.clone())),
                    _ => {}
                }
                let claimed = node.counts.claimed_entries.saturating_sub(was.counts.claimed_entries);
                if claimed > 0 {
                    events.push(ClusterEvent::Claimed(name, claimed));
                }
            }
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, status: &str, claimed: u64) -> ClusterNode {
        ClusterNode {
            name: name.into(),
            status: status.into(),
            counts: NodeCounts { claimed_entries: claimed, ..NodeCounts::default() },
            ..ClusterNode::default()
        }
    }

    fn view(nodes: Vec<ClusterNode>) -> ClusterInfo {
        ClusterInfo { nodes, ..ClusterInfo::default() }
    }

    #[test]
    fn joins_deaths_claims_and_returns_are_told_apart() {
        let a = view(vec![node("a", "alive", 0), node("b", "alive", 0)]);
        let b = view(vec![node("a", "alive", 3), node("b", "dead", 0), node("c", "alive", 0)]);
        assert_eq!(
            cluster_events(&a, &b),
            vec![
                ClusterEvent::Claimed("a".into(), 3),
                ClusterEvent::Died("b".into()),
                ClusterEvent::Joined("c".into())
            ]
        );
        let c = view(vec![node("a", "alive", 3), node("b", "alive", 0), node("c", "left", 0)]);
        assert_eq!(
            cluster_events(&b, &c),
            vec![ClusterEvent::Returned("b".into()), ClusterEvent::Left("c".into())]
        );
        assert!(cluster_events(&c, &c).is_empty(), "nothing changed, nothing told");
        assert!(ClusterEvent::Claimed("a".into(), 3).describe().contains("claimed 3"));
    }
}
