//! The dead-letter queue as the UI lists it: each message the pipeline gave up on, with every
//! failure that led there. Filled by the server's dead-letter store (`pulse_server::dlq`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One failed attempt at handling a message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// What went wrong, as a short label shared by similar failures (e.g. `out of range`), so
    /// failures can be grouped and counted.
    pub kind: String,
    /// The full reason for this attempt (e.g. `temperature 180 out of range -50..=150 °C`).
    pub reason: String,
    /// When the attempt failed, in milliseconds since the Unix epoch.
    pub at: u64,
}

/// A message in the dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterEntry {
    /// Stable for the entry's life and never reused, even across restarts: what `get`, replay
    /// and paging (`after`) take.
    pub id: u64,
    /// The message as JSON, exactly as it was dead-lettered; replay publishes it again. On
    /// the wire it is JSON text: postcard, the server functions' codec, cannot carry a value
    /// whose shape it is not told.
    #[serde(with = "json_text")]
    pub payload: serde_json::Value,
    /// How many times the pipeline tried it before giving up.
    pub attempts: u32,
    /// Every failure reason, oldest first: the last one is why it was dead-lettered.
    pub failures: Vec<FailureRecord>,
    /// When its first attempt failed, in milliseconds since the Unix epoch.
    pub first_failed_at: u64,
    /// When the store acknowledged it (durably written), in milliseconds since the Unix epoch.
    pub dead_lettered_at: u64,
    /// Where it came from (e.g. the topic), if the pipeline said.
    pub source: Option<String>,
}

impl DeadLetterEntry {
    /// The payload as the type it was published as, for replaying it typed.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }

    /// The reason it was dead-lettered: the last failure's, if any was recorded.
    pub fn last_reason(&self) -> Option<&str> {
        self.failures.last().map(|f| f.reason.as_str())
    }
}

/// A JSON value carried as its text.
mod json_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &serde_json::Value, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// A dead letter as the live page lists it: plain text, so the browser needs no decoder for
/// arbitrary JSON payloads (that alone cost ~10 KB of WASM).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterRow {
    pub id: u64,
    /// The message in short, e.g. `s-17 temperature 180`.
    pub what: String,
    /// Why it was dead-lettered (the last failure's reason).
    pub reason: String,
    pub attempts: u32,
}

impl From<&DeadLetterEntry> for DeadLetterRow {
    fn from(e: &DeadLetterEntry) -> Self {
        let field = |k: &str| {
            e.payload
                .get(k)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_default()
        };
        Self {
            id: e.id,
            what: format!("{} {} {}", field("sensor"), field("kind"), field("value")).trim().to_owned(),
            reason: e.last_reason().unwrap_or("no reason recorded").to_owned(),
            attempts: e.attempts,
        }
    }
}

/// One page of the dead-letter queue, with the counts that say how full it is and what it lost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterPage {
    /// Newest first; the next page is the entries older than the last one here (the server's
    /// `list(before: Some(last id), ..)`).
    pub entries: Vec<DeadLetterEntry>,
    /// Entries in the queue now (all pages).
    pub total: u64,
    /// Entries dropped since the store was created because the queue was full (oldest first):
    /// the queue is bounded, and what it loses is counted, never silent.
    pub evicted: u64,
    /// The most entries the queue keeps.
    pub capacity: u64,
}

/// The dead-letter queue's counts, as the stats snapshot carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterStats {
    /// Letters in the queue now.
    pub stored: u64,
    /// The most it keeps.
    pub capacity: u64,
    /// Oldest letters dropped to make room, since the store was created.
    pub evicted: u64,
    /// Letters durably written since the server started.
    pub written: u64,
    /// Failed messages that could not be written (disk slower than failures, or a write
    /// error): they are in the ledger's `failed` with their reason, but not in the queue.
    pub not_stored: u64,
    /// Letters published again since the server started.
    pub replayed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_in_postcard_and_gives_its_payload_back_typed() {
        let entry = DeadLetterEntry {
            id: 7,
            payload: serde_json::json!({ "value": 180 }),
            attempts: 2,
            failures: vec![
                FailureRecord { kind: "range".into(), reason: "first".into(), at: 1 },
                FailureRecord { kind: "range".into(), reason: "last".into(), at: 2 },
            ],
            first_failed_at: 1,
            dead_lettered_at: 3,
            source: Some("events".into()),
        };
        let bytes = postcard::to_allocvec(&entry).expect("serialize");
        assert_eq!(postcard::from_bytes::<DeadLetterEntry>(&bytes).expect("deserialize"), entry);
        assert_eq!(entry.last_reason(), Some("last"));
        #[derive(Deserialize)]
        struct Reading {
            value: i32,
        }
        assert_eq!(entry.payload_as::<Reading>().expect("typed").value, 180);
        let row = DeadLetterRow::from(&entry);
        assert_eq!((row.id, row.what.as_str(), row.reason.as_str(), row.attempts), (7, "180", "last", 2));
        let reading = DeadLetterEntry {
            payload: serde_json::json!({ "sensor": "s-1", "kind": "humidity", "value": 140.5 }),
            failures: Vec::new(),
            ..entry
        };
        let row = DeadLetterRow::from(&reading);
        assert_eq!((row.what.as_str(), row.reason.as_str()), ("s-1 humidity 140.5", "no reason recorded"));
    }
}
