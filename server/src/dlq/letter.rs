//! A dead letter on its way in ([`DeadLetter`]) and its encoding on disk: one JSON document per
//! entry, keyed by id. The on-disk record has its own private types so that renaming a field of
//! the entry type ([`Entry`]) cannot make existing stores unreadable.

use super::DlqError;
use super::entry::{Entry, FailureRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A message the pipeline gave up on, as handed to `append`: the store adds its id and the
/// time it was dead-lettered.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The message as JSON; replay hands it back unchanged.
    pub payload: Value,
    /// How many times it was tried.
    pub attempts: u32,
    /// Every failure, oldest first.
    pub failures: Vec<FailureRecord>,
    /// When the first attempt failed (Unix ms).
    pub first_failed_at: u64,
    /// Where it came from (e.g. the topic), to replay it there.
    pub source: Option<String>,
}

impl DeadLetter {
    /// A letter with no failure recorded yet; add them with [`DeadLetter::failed`].
    pub fn new(payload: Value) -> Self {
        Self { payload, attempts: 0, failures: Vec::new(), first_failed_at: now_ms(), source: None }
    }

    /// A letter for a typed message (serialized to JSON now).
    pub fn from_typed<T: Serialize + ?Sized>(payload: &T) -> Result<Self, DlqError> {
        let payload = serde_json::to_value(payload).map_err(|e| DlqError::Encode(Arc::new(e)))?;
        Ok(Self::new(payload))
    }

    /// The letter of a message that failed for good: its payload (as its debug text if it
    /// cannot be JSON), every failure as (kind, reason), oldest first, and where it came from.
    pub fn of_failed<T: Serialize + std::fmt::Debug + ?Sized>(
        payload: &T,
        failures: &[(String, String)],
        source: &str,
    ) -> Self {
        let letter =
            Self::from_typed(payload).unwrap_or_else(|_| Self::new(Value::String(format!("{payload:?}"))));
        failures
            .iter()
            .fold(letter, |l, (kind, reason)| l.failed(kind.clone(), reason.clone()))
            .with_source(source)
    }

    /// Records one failed attempt now: counts the attempt and keeps the reason.
    pub fn failed(self, kind: impl Into<String>, reason: impl Into<String>) -> Self {
        self.failed_at(kind, reason, now_ms())
    }

    /// Records one failed attempt that happened at `at` (Unix ms).
    pub fn failed_at(mut self, kind: impl Into<String>, reason: impl Into<String>, at: u64) -> Self {
        if self.failures.is_empty() {
            self.first_failed_at = at;
        }
        self.attempts += 1;
        self.failures.push(FailureRecord { kind: kind.into(), reason: reason.into(), at });
        self
    }

    /// Says where the message came from (e.g. its topic).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The on-disk record, encoding side (borrows the letter: no copy of the payload).
#[derive(Serialize)]
struct RecordRef<'a> {
    payload: &'a Value,
    attempts: u32,
    failures: Vec<FailureRef<'a>>,
    first_failed_at: u64,
    dead_lettered_at: u64,
    source: Option<&'a str>,
}

#[derive(Serialize)]
struct FailureRef<'a> {
    kind: &'a str,
    reason: &'a str,
    at: u64,
}

/// The on-disk record, decoding side. New fields must be `#[serde(default)]`.
#[derive(Deserialize)]
struct Record {
    payload: Value,
    attempts: u32,
    failures: Vec<StoredFailure>,
    first_failed_at: u64,
    dead_lettered_at: u64,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
struct StoredFailure {
    kind: String,
    reason: String,
    at: u64,
}

/// The bytes stored for `letter`, dead-lettered at `at`.
pub(crate) fn encode(letter: &DeadLetter, at: u64) -> Result<Vec<u8>, DlqError> {
    let record = RecordRef {
        payload: &letter.payload,
        attempts: letter.attempts,
        failures: letter
            .failures
            .iter()
            .map(|f| FailureRef { kind: &f.kind, reason: &f.reason, at: f.at })
            .collect(),
        first_failed_at: letter.first_failed_at,
        dead_lettered_at: at,
        source: letter.source.as_deref(),
    };
    serde_json::to_vec(&record).map_err(|e| DlqError::Encode(Arc::new(e)))
}

/// The entry stored under `id`; the error is the store's to name (it knows the path).
pub(crate) fn decode(id: u64, bytes: &[u8]) -> Result<Entry, serde_json::Error> {
    let r: Record = serde_json::from_slice(bytes)?;
    Ok(Entry {
        id,
        payload: r.payload,
        attempts: r.attempts,
        failures: r
            .failures
            .into_iter()
            .map(|f| FailureRecord { kind: f.kind, reason: f.reason, at: f.at })
            .collect(),
        first_failed_at: r.first_failed_at,
        dead_lettered_at: r.dead_lettered_at,
        source: r.source,
    })
}
