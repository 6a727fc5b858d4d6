//! The Lua scripts: each changes the stream and the ledger counters in one atomic step, so the
//! cluster ledger can never disagree with the stream's pending entries. `redis::Script` sends
//! `EVALSHA` and falls back to `EVAL` once after a Redis restart.
//!
//! Ledger hash fields (`pulse:ledger:<node>`): `published` (events this node put in the
//! stream), `processed` / `failed` (events whose entry this node acknowledged, by outcome),
//! `dead_lettered` (poison, delivered too often), `duplicate_events` / `duplicate_entries`
//! (acks that found nothing pending: the entry was acknowledged elsewhere already),
//! `claimed_entries` / `redelivered` (entries and events this node took over from dead nodes),
//! `replayed` (events this node put back from the dead-letter queue, counted in `published`
//! too), `corrupt_entries` (entries that did not decode, kept whole as letters).
//!
//! The cluster's dead-letter queue (`pulse:letters`, a stream of letters with ids
//! `<letter id>-0`, and `pulse:letters:meta`: `next_id`, `evicted`) changes only in these
//! scripts too: letters are added in the step that acknowledges their entry, and leave it in
//! the step that publishes them again.

use redis::Script;
use std::sync::LazyLock;

/// Publish: refuses past the backlog bound, else `XADD`s the batch's entries (a batch bigger
/// than `--bus-entry-max` is several), adds its events to the backlog and to the node's
/// `published`: all of the batch or none of it. KEYS: stream, backlog, ledger. ARGV: bound,
/// events in all, origin, then per entry: its events, its data. Returns `{1, last entry id,
/// backlog}` or `{0, "", backlog}`.
pub(crate) static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local backlog = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = tonumber(ARGV[2])
if backlog + n > tonumber(ARGV[1]) then
  return {0, '', backlog}
end
local id = ''
for i = 4, #ARGV, 2 do
  id = redis.call('XADD', KEYS[1], '*', 'n', ARGV[i], 'o', ARGV[3], 'd', ARGV[i + 1])
end
redis.call('INCRBY', KEYS[2], n)
redis.call('HINCRBY', KEYS[3], 'published', n)
return {1, id, backlog + n}
",
    )
});

/// Lua shared by the scripts that add dead letters to the cluster's queue (a stream whose
/// entry ids are `<letter id>-0`, so a letter's id is a plain number that is never reused:
/// the next one is kept in the meta hash, and never below the stream's top).
const LETTERS_LUA: &str = r"
local function letter_id(letters, meta)
  local id = tonumber(redis.call('HGET', meta, 'next_id') or '1')
  local top = redis.call('XREVRANGE', letters, '+', '-', 'COUNT', 1)
  if #top > 0 then
    local last = tonumber(string.match(top[1][1], '^(%d+)'))
    if last >= id then id = last + 1 end
  end
  return id
end
local function add_letters(letters, id, first, n)
  for j = first, first + n - 1 do
    redis.call('XADD', letters, id .. '-0', 'l', ARGV[j])
    id = id + 1
  end
  return id
end
local function close_letters(letters, meta, id, capacity)
  redis.call('HSET', meta, 'next_id', id)
  local evicted = 0
  if redis.call('XLEN', letters) > capacity then
    evicted = redis.call('XTRIM', letters, 'MAXLEN', capacity)
    redis.call('HINCRBY', meta, 'evicted', evicted)
  end
  return evicted
end
";

fn with_letters(body: &str) -> Script {
    Script::new(&format!("{LETTERS_LUA}\n{body}"))
}

/// Acknowledge finished entries: `XACK`s each; only if the ack removed it from the pending
/// list are its events' outcomes counted in the node's ledger and its failed events' letters
/// added to the cluster's dead-letter queue (so a duplicate adds no letter twice); otherwise
/// the entry was already acknowledged elsewhere, counted as a duplicate. KEYS: stream,
/// backlog, ledger, letters, letters' meta. ARGV: group, dead-letter capacity, then per entry:
/// id, processed, failed, letters (how many), the letters. Returns `{acked entries, duplicate
/// entries, duplicate events, letters written, letters evicted}`.
pub(crate) static ACK: LazyLock<Script> = LazyLock::new(|| {
    with_letters(
        r"
local acked, dup_entries, dup_events, processed, failed, written = 0, 0, 0, 0, 0, 0
local id = nil
local i = 3
while i <= #ARGV do
  local p, f, l = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    acked = acked + 1
    processed = processed + p
    failed = failed + f
    if l > 0 then
      id = id or letter_id(KEYS[4], KEYS[5])
      id = add_letters(KEYS[4], id, i + 4, l)
      written = written + l
    end
  else
    dup_entries = dup_entries + 1
    dup_events = dup_events + p + f
  end
  i = i + 4 + l
end
if processed > 0 then redis.call('HINCRBY', KEYS[3], 'processed', processed) end
if failed > 0 then redis.call('HINCRBY', KEYS[3], 'failed', failed) end
if processed + failed > 0 then redis.call('DECRBY', KEYS[2], processed + failed) end
if dup_entries > 0 then
  redis.call('HINCRBY', KEYS[3], 'duplicate_entries', dup_entries)
  redis.call('HINCRBY', KEYS[3], 'duplicate_events', dup_events)
end
local evicted = 0
if id then evicted = close_letters(KEYS[4], KEYS[5], id, tonumber(ARGV[2])) end
return {acked, dup_entries, dup_events, written, evicted}
",
    )
});

/// Poison: an entry delivered more than the bound is acknowledged and its events added to the
/// dead-letter queue (one letter each), counted `dead_lettered`, in one step (only if it was
/// still pending). KEYS: stream, backlog, ledger, letters, letters' meta. ARGV: group, id,
/// capacity, the letters. Returns 1 if dead-lettered, 0 if it was no longer pending.
pub(crate) static POISON: LazyLock<Script> = LazyLock::new(|| {
    with_letters(
        r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local n = #ARGV - 3
local id = add_letters(KEYS[4], letter_id(KEYS[4], KEYS[5]), 4, n)
close_letters(KEYS[4], KEYS[5], id, tonumber(ARGV[3]))
redis.call('HINCRBY', KEYS[3], 'dead_lettered', n)
redis.call('DECRBY', KEYS[2], n)
return 1
",
    )
});

/// A corrupt entry (its fields do not decode): acknowledged and kept whole as one letter,
/// counted `corrupt_entries` (not in the balance: a corrupt entry was not published by a
/// node's script, so no node counted its events). KEYS: stream, ledger, letters, letters'
/// meta. ARGV: group, id, capacity, the letter. Returns 1, or 0 if it was no longer pending.
pub(crate) static CORRUPT: LazyLock<Script> = LazyLock::new(|| {
    with_letters(
        r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local id = add_letters(KEYS[3], letter_id(KEYS[3], KEYS[4]), 4, 1)
close_letters(KEYS[3], KEYS[4], id, tonumber(ARGV[3]))
redis.call('HINCRBY', KEYS[2], 'corrupt_entries', 1)
return 1
",
    )
});

/// Replay, atomically: the letters leave the dead-letter queue in the same step as their
/// events enter the stream as one entry (counted `published` and `replayed` in the node's
/// ledger), so a crash can neither lose them nor replay them twice. Refused as a whole when a
/// letter is gone already (another replay or a purge took it: the caller retries without it)
/// or past the backlog bound. `n` 0: the letters are only removed (not readings). KEYS:
/// letters, stream, backlog, ledger. ARGV: bound, n, origin, data, the letters' stream ids.
/// Returns `{1, entry id, backlog, {}}`, `{0, "", backlog, {}}` (backlog full) or
/// `{2, "", 0, {missing ids}}`.
pub(crate) static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local missing = {}
for i = 5, #ARGV do
  if #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i]) == 0 then missing[#missing + 1] = ARGV[i] end
end
if #missing > 0 then return {2, '', 0, missing} end
local backlog = tonumber(redis.call('GET', KEYS[3]) or '0')
local n = tonumber(ARGV[2])
local id = ''
if n > 0 then
  if backlog + n > tonumber(ARGV[1]) then return {0, '', backlog, {}} end
  id = redis.call('XADD', KEYS[2], '*', 'n', ARGV[2], 'o', ARGV[3], 'd', ARGV[4])
  redis.call('INCRBY', KEYS[3], n)
  redis.call('HINCRBY', KEYS[4], 'published', n)
  redis.call('HINCRBY', KEYS[4], 'replayed', n)
end
for i = 5, #ARGV do redis.call('XDEL', KEYS[1], ARGV[i]) end
return {1, id, backlog + n, {}}
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Finished {
    pub id: String,
    pub processed: u64,
    pub failed: u64,
    /// The failed events' dead letters (the dead-letter store's JSON record each).
    pub letters: Vec<Vec<u8>>,
    /// The failed events' kinds, for the node's local ledger once acknowledged.
    pub kinds: Vec<&'static str>,
}

/// What one ack script call reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AckReport {
    pub acked: u64,
    pub duplicate_entries: u64,
    pub duplicate_events: u64,
    pub letters_written: u64,
    pub letters_evicted: u64,
}

/// The ack script's ARGV after the group and capacity: per entry id, processed, failed, the
/// number of letters, the letters.
pub(crate) fn ack_args(finished: &[Finished]) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    for f in finished {
        args.push(f.id.clone().into_bytes());
        args.push(f.processed.to_string().into_bytes());
        args.push(f.failed.to_string().into_bytes());
        args.push(f.letters.len().to_string().into_bytes());
        args.extend(f.letters.iter().cloned());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_arguments_carry_each_entrys_letters_after_its_counts() {
        let f = |id: &str, p, fl, letters: &[&str]| Finished {
            id: id.into(),
            processed: p,
            failed: fl,
            letters: letters.iter().map(|l| l.as_bytes().to_vec()).collect(),
            kinds: Vec::new(),
        };
        let args =
            ack_args(&[f("1-0", 3, 1, &["{a}"]), f("2-0", 0, 2, &["{b}", "{c}"]), f("3-0", 1, 0, &[])]);
        let args: Vec<&str> = args.iter().map(|a| std::str::from_utf8(a).expect("utf-8")).collect();
        assert_eq!(
            args,
            ["1-0", "3", "1", "1", "{a}", "2-0", "0", "2", "2", "{b}", "{c}", "3-0", "1", "0", "0"]
        );
        assert!(ack_args(&[]).is_empty());
    }

    #[test]
    fn scripts_parse_as_distinct_lua() {
        let scripts = [&PUBLISH, &ACK, &POISON, &CORRUPT, &REPLAY, &LEASE, &RELEASE];
        let hashes = scripts.map(|s| s.get_hash().to_owned());
        let unique: std::collections::BTreeSet<_> = hashes.iter().collect();
        assert_eq!(unique.len(), hashes.len());
    }
}
