//! The Lua scripts: each changes the stream and the ledger counters in one atomic step, so the
//! cluster ledger can never disagree with the stream's pending entries. `redis::Script` sends
//! `EVALSHA` and falls back to `EVAL` once after a Redis restart.
//!
//! Ledger hash fields (`pulse:ledger:<node>`): `published` (events this node put in the
//! stream), `processed` / `failed` (events whose entry this node acknowledged, by outcome),
//! `dead_lettered` (poison, delivered too often), `duplicate_events` / `duplicate_entries`
//! (acks that found nothing pending: the entry was acknowledged elsewhere already),
//! `claimed_entries` / `redelivered` (entries and events this node took over from dead nodes).

use redis::Script;
use std::sync::LazyLock;

/// Publish: refuses past the backlog bound, else `XADD`s the entry, adds its events to the
/// backlog and to the node's `published`. KEYS: stream, backlog, ledger. ARGV: bound, n,
/// origin, data. Returns `{1, id, backlog}` or `{0, "", backlog}`.
pub(crate) static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local backlog = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = tonumber(ARGV[2])
if backlog + n > tonumber(ARGV[1]) then
  return {0, '', backlog}
end
local id = redis.call('XADD', KEYS[1], '*', 'n', ARGV[2], 'o', ARGV[3], 'd', ARGV[4])
redis.call('INCRBY', KEYS[2], n)
redis.call('HINCRBY', KEYS[3], 'published', n)
return {1, id, backlog + n}
",
    )
});

/// Acknowledge finished entries: `XACK`s each and counts its events' outcomes in the node's
/// ledger only if the ack removed it from the pending list; otherwise the entry was already
/// acknowledged (a duplicate), counted as such. KEYS: stream, backlog, ledger. ARGV: group,
/// then per entry: id, processed, failed. Returns `{acked entries, duplicate entries,
/// duplicate events}`.
pub(crate) static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local acked, dup_entries, dup_events, processed, failed = 0, 0, 0, 0, 0
for i = 2, #ARGV, 3 do
  local p, f = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    acked = acked + 1
    processed = processed + p
    failed = failed + f
  else
    dup_entries = dup_entries + 1
    dup_events = dup_events + p + f
  end
end
if processed > 0 then redis.call('HINCRBY', KEYS[3], 'processed', processed) end
if failed > 0 then redis.call('HINCRBY', KEYS[3], 'failed', failed) end
if processed + failed > 0 then redis.call('DECRBY', KEYS[2], processed + failed) end
if dup_entries > 0 then
  redis.call('HINCRBY', KEYS[3], 'duplicate_entries', dup_entries)
  redis.call('HINCRBY', KEYS[3], 'duplicate_events', dup_events)
end
return {acked, dup_entries, dup_events}
",
    )
});

/// Poison: an entry delivered more than the bound is copied to the dead-letter stream and
/// acknowledged, its events counted `dead_lettered`, in one step (only if it was still
/// pending). KEYS: stream, dlq, backlog, ledger. ARGV: group, id, n, origin, data, deliveries,
/// node. Returns 1 if dead-lettered, 0 if it was no longer pending.
pub(crate) static POISON: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'entry', ARGV[2], 'n', ARGV[3], 'o', ARGV[4], 'd', ARGV[5],
  'deliveries', ARGV[6], 'by', ARGV[7])
redis.call('HINCRBY', KEYS[4], 'dead_lettered', tonumber(ARGV[3]))
redis.call('DECRBY', KEYS[3], tonumber(ARGV[3]))
return 1
",
    )
});

/// Lease: takes the key if free, renews it if this node holds it. KEYS: lease. ARGV: node, ttl
/// ms. Returns 1 while held by this node.
pub(crate) static LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
",
    )
});

/// Releases a lease only if this node holds it. KEYS: lease. ARGV: node.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// One finished entry as the ack script takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finished {
    pub id: String,
    pub processed: u64,
    pub failed: u64,
}

/// What one ack script call reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AckReport {
    pub acked: u64,
    pub duplicate_entries: u64,
    pub duplicate_events: u64,
}

/// The ack script's ARGV after the group: id, processed, failed per entry.
pub(crate) fn ack_args(finished: &[Finished]) -> Vec<String> {
    finished.iter().flat_map(|f| [f.id.clone(), f.processed.to_string(), f.failed.to_string()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_arguments_are_triples_in_order() {
        let f = |id: &str, p, fl| Finished { id: id.into(), processed: p, failed: fl };
        assert_eq!(ack_args(&[f("1-0", 3, 1), f("2-0", 0, 2)]), ["1-0", "3", "1", "2-0", "0", "2"]);
        assert!(ack_args(&[]).is_empty());
    }

    #[test]
    fn scripts_parse_as_distinct_lua() {
        let hashes = [&PUBLISH, &ACK, &POISON, &LEASE, &RELEASE].map(|s| s.get_hash().to_owned());
        let unique: std::collections::BTreeSet<_> = hashes.iter().collect();
        assert_eq!(unique.len(), hashes.len());
    }
}
