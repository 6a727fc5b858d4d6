//! The cluster's dead-letter queue in redis mode: one stream (`pulse:letters`) every node
//! writes to and reads from, so the page on any node lists, replays and purges the same
//! letters. A letter is the dead-letter store's own JSON record (`crate::dlq`), and its id is
//! a plain number (`<id>-0` in the stream) that is never reused.
//!
//! Letters are added only by the scripts that acknowledge entries (a failed event's letter with
//! its entry's `XACK`; poison and corrupt entries with theirs), and leave only by the replay
//! script, in the same step that puts their events back in the events stream, or by a purge:
//! nothing is lost between the two queues and nothing is replayed twice.

use super::codec::Entry;
use super::scripts::{CORRUPT, POISON, REPLAY};
use super::{RedisBus, codec};
use crate::dlq::{DeadLetter, DlqError, Page, ReplayError, Selection, decode_letter, encode_letter, now_ms};
use app::model::SensorReading;
use redis::streams::{StreamId, StreamRangeReply};
use std::collections::BTreeSet;

/// Most letters replayed in one script call (one entry of the events stream, so never more
/// than `--bus-entry-max` either).
const REPLAY_CHUNK: usize = 1_000;

/// The cluster's dead-letter queue, through this node: a cheap clone.
#[derive(Clone)]
pub struct ClusterLetters {
    bus: RedisBus,
}

impl ClusterLetters {
    /// The queue `bus` writes to.
    pub fn new(bus: &RedisBus) -> Self {
        Self { bus: bus.clone() }
    }

    /// The most letters the queue keeps (this node's `--dlq-capacity`; the node that writes
    /// trims to its own).
    pub fn capacity(&self) -> u64 {
        self.bus.inner.acks.sink.get().map_or(0, |s| s.capacity)
    }

    /// Letters this node added.
    pub fn written(&self) -> u64 {
        self.bus.inner.acks.letters_written.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// (letters in the queue, letters evicted since it was created).
    pub async fn counts(&self) -> Result<(u64, u64), DlqError> {
        let keys = &self.bus.inner.keys;
        let (len, evicted): (u64, Option<u64>) = redis::pipe()
            .cmd("XLEN")
            .arg(&keys.letters)
            .hget(&keys.letters_meta, "evicted")
            .query_async(&mut self.bus.conn())
            .await
            .map_err(|e| self.trouble(e))?;
        Ok((len, evicted.unwrap_or(0)))
    }

    /// One page, newest first: up to `limit` letters with ids below `before`, with the counts
    /// from the same moment (one `MULTI`).
    pub async fn list(&self, before: Option<u64>, limit: usize) -> Result<Page, DlqError> {
        let keys = &self.bus.inner.keys;
        let end = before.map_or_else(|| "+".to_owned(), |b| format!("({b}-0"));
        let (range, total, evicted): (StreamRangeReply, u64, Option<u64>) = redis::pipe()
            .atomic()
            .cmd("XREVRANGE")
            .arg(&keys.letters)
            .arg(end)
            .arg("-")
            .arg("COUNT")
            .arg(limit)
            .cmd("XLEN")
            .arg(&keys.letters)
            .hget(&keys.letters_meta, "evicted")
            .query_async(&mut self.bus.conn())
            .await
            .map_err(|e| self.trouble(e))?;
        let entries = range.ids.iter().filter_map(read_letter).collect();
        Ok(Page { entries, total, evicted: evicted.unwrap_or(0), capacity: self.capacity() })
    }

    /// Empties the queue; returns how many letters it removed. Ids keep counting.
    pub async fn purge(&self) -> Result<u64, DlqError> {
        let keys = &self.bus.inner.keys;
        let (len, _): (u64, u64) = redis::pipe()
            .atomic()
            .cmd("XLEN")
            .arg(&keys.letters)
            .del(&keys.letters)
            .query_async(&mut self.bus.conn())
            .await
            .map_err(|e| self.trouble(e))?;
        Ok(len)
    }

    /// Replays the selection, oldest first, in chunks: each chunk's letters leave the queue in
    /// the step that publishes them again (the replay script). Letters another node replayed
    /// or purged meanwhile are skipped; letters added during the replay are left for the next.
    /// Stops at the backlog bound or on trouble, with the rest still queued.
    pub async fn replay(&self, selection: Selection) -> Result<u64, ReplayError<super::BusError>> {
        let keys = &self.bus.inner.keys;
        let mut conn = self.bus.conn();
        let top: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&keys.letters)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.trouble(e))?;
        let Some(up_to) = top.ids.first().and_then(|t| letter_id(&t.id)) else { return Ok(0) };
        let mut wanted: Option<Vec<u64>> = match selection {
            Selection::All => None,
            Selection::Ids(ids) => Some(ids.into_iter().collect::<BTreeSet<_>>().into_iter().rev().collect()),
        };
        let chunk_max = REPLAY_CHUNK.min(self.bus.inner.config.entry_max.max(1));
        let mut after = 0u64;
        let mut replayed = 0u64;
        loop {
            let chunk: Vec<StreamId> = match &mut wanted {
                None => {
                    let range: StreamRangeReply = redis::cmd("XRANGE")
                        .arg(&keys.letters)
                        .arg(format!("({after}-0"))
                        .arg(format!("{up_to}-0"))
                        .arg("COUNT")
                        .arg(chunk_max)
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| self.trouble(e))?;
                    range.ids
                }
                Some(ids) => {
                    let take: Vec<u64> = (0..chunk_max).map_while(|_| ids.pop()).collect();
                    if take.is_empty() {
                        return Ok(replayed);
                    }
                    let mut pipe = redis::pipe();
                    for id in &take {
                        pipe.cmd("XRANGE").arg(&keys.letters).arg(format!("{id}-0")).arg(format!("{id}-0"));
                    }
                    let found: Vec<StreamRangeReply> =
                        pipe.query_async(&mut conn).await.map_err(|e| self.trouble(e))?;
                    found.into_iter().flat_map(|r| r.ids).collect()
                }
            };
            let Some(last) = chunk.last().and_then(|l| letter_id(&l.id)) else {
                if wanted.is_some() {
                    continue; // none of this chunk's ids is queued any more: the next chunk
                }
                return Ok(replayed);
            };
            after = after.max(last);
            replayed +=
                self.replay_chunk(chunk).await.map_err(|error| ReplayError::Publish { replayed, error })?;
        }
    }

    /// Publishes one chunk's readings as one entry and removes its letters, atomically;
    /// retried without the letters that are gone. Returns how many were replayed.
    async fn replay_chunk(&self, mut chunk: Vec<StreamId>) -> Result<u64, super::BusError> {
        let keys = &self.bus.inner.keys;
        let bus = &self.bus;
        loop {
            if chunk.is_empty() {
                return Ok(0);
            }
            let letters: Vec<(String, Option<SensorReading>)> = chunk
                .iter()
                .map(|raw| (raw.id.clone(), read_letter(raw).and_then(|l| l.payload_as().ok())))
                .collect();
            let readings: Vec<SensorReading> = letters.iter().filter_map(|(_, r)| r.clone()).collect();
            if readings.len() < letters.len() {
                tracing::warn!("{} dead letters are not readings: removed", letters.len() - readings.len());
            }
            // One entry whatever `--bus-entry-max` says: the script adds exactly one.
            let (n, data) = codec::encode(&readings)?;
            let mut call = REPLAY.prepare_invoke();
            call.key(&keys.letters)
                .key(&keys.stream)
                .key(&keys.backlog)
                .key(&keys.ledger)
                .arg(bus.inner.config.backlog_bound)
                .arg(n)
                .arg(bus.node())
                .arg(data);
            for (id, _) in &letters {
                call.arg(id);
            }
            let outcome: Result<(u8, String, u64, Vec<String>), _> = call.invoke_async(&mut bus.conn()).await;
            match outcome {
                Ok((1, _, _, _)) => return Ok(readings.len() as u64),
                Ok((2, _, _, missing)) => chunk.retain(|raw| !missing.contains(&raw.id)),
                Ok((_, _, backlog, _)) => {
                    return Err(super::BusError::Backlog { backlog, bound: bus.inner.config.backlog_bound });
                }
                Err(e) => {
                    bus.trouble(&e);
                    return Err(e.into());
                }
            }
        }
    }

    fn trouble(&self, e: redis::RedisError) -> DlqError {
        self.bus.trouble(&e);
        DlqError::Cluster(e.to_string())
    }
}

/// A letter's number from its stream id (`<id>-0`).
fn letter_id(stream_id: &str) -> Option<u64> {
    stream_id.split_once('-').and_then(|(id, _)| id.parse().ok())
}

/// A letter as the store's entry; one that does not decode is shown for what it is.
fn read_letter(raw: &StreamId) -> Option<crate::dlq::Entry> {
    let id = letter_id(&raw.id)?;
    let bytes: Vec<u8> = raw.get("l").unwrap_or_default();
    Some(decode_letter(id, &bytes).unwrap_or_else(|e| crate::dlq::Entry {
        id,
        payload: serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        attempts: 0,
        failures: vec![crate::dlq::FailureRecord {
            kind: "undecodable".into(),
            reason: e.to_string(),
            at: 0,
        }],
        first_failed_at: 0,
        dead_lettered_at: 0,
        source: None,
    }))
}

/// The queue's bound and the source recorded in letters the bus writes itself.
fn sink(bus: &RedisBus) -> (u64, String) {
    bus.inner.acks.sink.get().map_or((0, String::new()), |s| (s.capacity, s.source.clone()))
}

/// Dead-letters `entry` as poison, one letter per event (if it is still pending): 1 if it was.
pub(crate) async fn poison(bus: &RedisBus, entry: &Entry) -> redis::RedisResult<u64> {
    let keys = &bus.inner.keys;
    let (capacity, source) = sink(bus);
    let why = format!(
        "delivered {} times (--bus-max-deliveries {}): the nodes handling it kept dying",
        entry.deliveries, bus.inner.config.max_deliveries
    );
    let mut call = POISON.prepare_invoke();
    call.key(&keys.stream)
        .key(&keys.backlog)
        .key(&keys.ledger)
        .key(&keys.letters)
        .key(&keys.letters_meta)
        .arg(&keys.group)
        .arg(&entry.id)
        .arg(capacity.max(1));
    let failures = [("poison".to_owned(), why)];
    for reading in &entry.readings {
        let letter = DeadLetter::of_failed(reading, &failures, &source);
        call.arg(encode_letter(&letter, now_ms()).unwrap_or_default());
    }
    let done: u64 = call.invoke_async(&mut bus.conn()).await?;
    tracing::warn!(entry = %entry.id, deliveries = entry.deliveries, events = entry.readings.len(), "dead-lettered a poison entry");
    Ok(done)
}

/// Keeps an entry that does not decode as one letter (its raw fields) and acknowledges it, so
/// it neither stays pending for ever nor vanishes: 1 if it was still pending.
pub(crate) async fn corrupt(bus: &RedisBus, raw: &StreamId, why: &str) -> redis::RedisResult<u64> {
    let keys = &bus.inner.keys;
    let (capacity, source) = sink(bus);
    let fields: serde_json::Map<String, serde_json::Value> = raw
        .map
        .iter()
        .map(|(k, v)| {
            let bytes: Vec<u8> = redis::from_redis_value(v.clone()).unwrap_or_default();
            (k.clone(), serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect();
    let letter = DeadLetter::new(serde_json::json!({ "entry": raw.id, "fields": fields }))
        .failed("corrupt", why)
        .with_source(source);
    let done: u64 = CORRUPT
        .key(&keys.stream)
        .key(&keys.ledger)
        .key(&keys.letters)
        .key(&keys.letters_meta)
        .arg(&keys.group)
        .arg(&raw.id)
        .arg(capacity.max(1))
        .arg(encode_letter(&letter, now_ms()).unwrap_or_default())
        .invoke_async(&mut bus.conn())
        .await?;
    tracing::error!(entry = %raw.id, "an entry that does not decode was dead-lettered: {why}");
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letters_number_is_its_stream_ids_first_part() {
        assert_eq!(letter_id("42-0"), Some(42));
        assert_eq!(letter_id("1764625000000-3"), Some(1_764_625_000_000));
        assert_eq!(letter_id("nonsense"), None);
    }

    #[test]
    fn a_letter_that_does_not_decode_is_shown_not_dropped() {
        let raw = StreamId {
            id: "7-0".into(),
            map: [("l".to_owned(), redis::Value::BulkString(b"not json".to_vec()))].into(),
            ..StreamId::default()
        };
        let e = read_letter(&raw).expect("an entry");
        assert_eq!((e.id, e.failures[0].kind.as_str()), (7, "undecodable"));
        assert_eq!(e.payload, serde_json::json!("not json"));
    }
}
