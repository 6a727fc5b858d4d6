//! The server's edge: the engine's own types (pipeline, pub/sub, dead-letter store) mapped to
//! the wire types the browser and `/api/*` share (`app::model`), and a stage's wire key mapped
//! back to the engine's id. The engine never sees a wire type; only this file converts.

use crate::bus;
use crate::dlq;
use crate::pipeline::{self, StageId};
use crate::pubsub::{self, Overflow};
use app::model::{
    BatcherNode, DeadLetterEntry, DeadLetterPage, FailureRecord, OverflowPolicy, Percentiles,
    PipelineControls, PipelineStats, ProcessorsNode, PubSubStats, RateLimitSetting, RetrySetting, StageKey,
    StageRole, StageStats, SubscriberStats, TopicStats, Topology,
};

/// The pipeline's report as the page shows it.
pub(crate) fn pipeline_stats(p: pipeline::PipelineStats) -> PipelineStats {
    let names: Vec<String> = p.topology.batchers.iter().map(|b| b.name.clone()).collect();
    PipelineStats {
        stages: p
            .stages
            .into_iter()
            .map(|s| {
                let stage = stage_key(s.id, &names);
                StageStats {
                    name: stage.label(),
                    stage,
                    received: s.received,
                    successful: s.successful,
                    failed: s.failed,
                    per_s: s.per_s,
                    busy_pct: s.busy_pct,
                    queue: s.queue,
                    restarts: s.restarts,
                    run_p99_us: s.run_p99_us,
                }
            })
            .collect(),
        topology: topology(p.topology),
        processed_latency: percentiles(p.processed_latency),
        ack_latency: percentiles(p.ack_latency),
        latency_window_s: p.latency_window_s,
        restarts: p.restarts,
        retried: p.retried,
        retry_pending: p.retry_pending,
        controls: controls(p.controls),
    }
}

/// The run-time controls as the page shows them.
pub(crate) fn controls(c: pipeline::ControlState) -> PipelineControls {
    PipelineControls {
        paused: c.paused,
        concurrency: c.concurrency,
        max_concurrency: c.max_concurrency,
        rate_limit: c.rate_limit.map(|l| RateLimitSetting {
            allowed_messages: l.allowed_messages,
            interval_ms: l.interval.as_millis() as u64,
        }),
        retry: c.retry.map(|r| RetrySetting {
            max_attempts: r.max_attempts,
            backoff_ms: r.backoff.as_millis() as u64,
            max_backoff_ms: r.max_backoff.as_millis() as u64,
            jitter: r.jitter,
        }),
    }
}

fn topology(t: pipeline::Topology) -> Topology {
    Topology {
        producer: t.producer,
        processors: ProcessorsNode {
            concurrency: t.processors.concurrency,
            max_demand: t.processors.max_demand,
            min_demand: t.processors.min_demand,
            max_concurrency: t.processors.max_concurrency,
            partitioned: t.processors.partitioned,
        },
        batchers: t
            .batchers
            .into_iter()
            .map(|b| BatcherNode {
                name: b.name,
                batch_size: b.batch_size,
                batch_timeout_ms: b.batch_timeout_ms,
                concurrency: b.concurrency,
                keys: b.keys,
            })
            .collect(),
    }
}

fn percentiles(p: pipeline::Percentiles) -> Percentiles {
    Percentiles { count: p.count, p50_us: p.p50_us, p90_us: p.p90_us, p99_us: p.p99_us, max_us: p.max_us }
}

/// A stage's wire key: batchers named, not numbered.
fn stage_key(id: StageId, batchers: &[String]) -> StageKey {
    let named = |b: usize| batchers.get(b).cloned();
    let (role, index, batcher) = match id {
        StageId::Producer => (StageRole::Producer, 0, None),
        StageId::Processor(i) => (StageRole::Processor, i, None),
        StageId::Batcher(b) => (StageRole::Batcher, 0, named(b)),
        StageId::BatchProcessor { batcher, index } => (StageRole::BatchProcessor, index, named(batcher)),
    };
    StageKey { role, index: index as u32, batcher }
}

/// The engine's id of the stage a page names, if the topology has it (batchers are looked up
/// by name).
pub(crate) fn stage_id(key: &StageKey, topology: &pipeline::Topology) -> Option<StageId> {
    let batcher = || {
        let name = key.batcher.as_deref()?;
        topology.batchers.iter().position(|b| b.name == name)
    };
    let index = key.index as usize;
    Some(match key.role {
        StageRole::Producer => StageId::Producer,
        StageRole::Processor => StageId::Processor(index),
        StageRole::Batcher => StageId::Batcher(batcher()?),
        StageRole::BatchProcessor => StageId::BatchProcessor { batcher: batcher()?, index },
    })
}

/// The hub's report as the dashboard shows it.
pub(crate) fn pubsub_stats(s: pubsub::PubSubStats) -> PubSubStats {
    PubSubStats {
        topics: s
            .topics
            .into_iter()
            .map(|t| TopicStats { topic: t.topic, subscribers: t.subscribers, published: t.published })
            .collect(),
        subscribers: s
            .subscribers
            .into_iter()
            .map(|s| SubscriberStats {
                id: s.id,
                name: s.name,
                patterns: s.patterns,
                capacity: s.capacity,
                buffered: s.buffered,
                overflow: overflow_policy(s.overflow),
                delivered: s.delivered,
                lost: s.lost,
            })
            .collect(),
    }
}

/// A buffer's overflow policy as the page names it.
pub(crate) fn overflow_policy(o: Overflow) -> OverflowPolicy {
    match o {
        Overflow::Block => OverflowPolicy::Block,
        Overflow::DropNewest => OverflowPolicy::DropNewest,
        Overflow::DropOldest => OverflowPolicy::DropOldest,
    }
}

/// The overflow policy a page asked for.
pub(crate) fn overflow(o: OverflowPolicy) -> Overflow {
    match o {
        OverflowPolicy::Block => Overflow::Block,
        OverflowPolicy::DropNewest => Overflow::DropNewest,
        OverflowPolicy::DropOldest => Overflow::DropOldest,
    }
}

/// A page of the dead-letter store as the page lists it.
pub(crate) fn dead_letter_page(p: dlq::Page) -> DeadLetterPage {
    DeadLetterPage {
        entries: p.entries.into_iter().map(dead_letter).collect(),
        total: p.total,
        evicted: p.evicted,
        capacity: p.capacity,
    }
}

fn dead_letter(e: dlq::Entry) -> DeadLetterEntry {
    DeadLetterEntry {
        id: e.id,
        payload: e.payload,
        attempts: e.attempts,
        failures: e
            .failures
            .into_iter()
            .map(|f| FailureRecord { kind: f.kind, reason: f.reason, at: f.at })
            .collect(),
        first_failed_at: e.first_failed_at,
        dead_lettered_at: e.dead_lettered_at,
        source: e.source,
    }
}

/// The bus's cluster view as the dashboard's Cluster tab shows it.
pub(crate) fn cluster(v: bus::ClusterView) -> app::model::ClusterInfo {
    let counts = |l: &bus::NodeLedger| app::model::NodeCounts {
        published: l.published,
        processed: l.processed,
        failed: l.failed,
        dead_lettered: l.dead_lettered,
        duplicate_events: l.duplicate_events,
        claimed_entries: l.claimed_entries,
        redelivered: l.redelivered,
    };
    app::model::ClusterInfo {
        bus: v.bus,
        node: v.node,
        redis_version: v.redis_version,
        persistence: v.persistence,
        nodes: v
            .nodes
            .into_iter()
            .map(|n| app::model::ClusterNode {
                counts: counts(&n.ledger),
                name: n.name,
                status: n.status,
                heartbeat_age_ms: n.heartbeat_age_ms,
                addr: n.addr,
                pending_entries: n.pending_entries,
                applied: n.controls,
            })
            .collect(),
        total: counts(&v.total),
        in_flight: v.in_flight,
        stream_length: v.stream_length,
        pending_entries: v.pending_entries,
        lag_entries: v.lag_entries,
        dead_letters: v.dead_letters,
        balances: v.balances,
        degraded: v.degraded,
        broadcast: [v.broadcast.sent, v.broadcast.received, v.broadcast.dropped, v.broadcast.gaps],
        lost_publishes: v.lost_publishes,
        refused_publishes: v.refused_publishes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_keys_map_both_ways() {
        let topology = pipeline::Topology {
            batchers: vec![
                pipeline::BatcherNode { name: "default".into(), ..Default::default() },
                pipeline::BatcherNode { name: "slow".into(), ..Default::default() },
            ],
            ..Default::default()
        };
        let names: Vec<String> = topology.batchers.iter().map(|b| b.name.clone()).collect();
        for id in [
            StageId::Producer,
            StageId::Processor(3),
            StageId::Batcher(1),
            StageId::BatchProcessor { batcher: 1, index: 2 },
        ] {
            let key = stage_key(id, &names);
            assert_eq!(stage_id(&key, &topology), Some(id), "{key:?}");
        }
        assert_eq!(
            stage_key(StageId::BatchProcessor { batcher: 1, index: 2 }, &names).label(),
            "batch processor slow.2"
        );
        let unknown = StageKey { role: StageRole::Batcher, index: 0, batcher: Some("nope".into()) };
        assert_eq!(stage_id(&unknown, &topology), None);
    }

    #[test]
    fn overflow_policies_round_trip() {
        for o in [Overflow::Block, Overflow::DropNewest, Overflow::DropOldest] {
            assert_eq!(overflow(overflow_policy(o)), o);
        }
    }
}
