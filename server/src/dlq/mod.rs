//! The dead-letter queue's durable store: messages the pipeline gave up on, with every failure
//! reason, kept in one [redb](https://www.redb.org) file so they survive a restart or a crash.
//!
//! # Using it
//! - **Open** once: [`DeadLetters::open`]`(config.dlq_path(), config.dlq_capacity)`. The
//!   handle is a cheap clone. Its methods block on disk I/O: from async code, call them via
//!   [`DeadLetters::run_blocking`].
//! - **Dead-letter** through a [`DeadLetterWriter`] (`spawn` it once, clone it into the
//!   pipeline): `writer.send(letters).await` returns the ids once the letters are fsynced.
//!   Acknowledge the messages as dead-lettered only after that `Ok`; on `Err` nothing was
//!   written. Letters sent while a commit is on disk share the next commit (group commit).
//! - **List** for the UI: [`DeadLetters::list`] (newest first, paged by id), [`DeadLetters::get`].
//! - **Replay** without losing a letter: [`DeadLetters::peek`] (oldest first), re-publish, then
//!   [`DeadLetters::remove`], or [`DeadLetters::replay_with`] which loops over that. At least
//!   once: a crash between publish and remove replays those letters again.
//! - **Purge**: [`DeadLetters::purge`].
//!
//! # Guarantees
//! - Durable: every write is one redb transaction committed with `Durability::Immediate`
//!   (fsync before it returns). redb commits copy-on-write with checksummed roots, so a crash
//!   mid-commit leaves the previous commit intact: nothing acknowledged is lost
//!   (`tests/dlq_crash.rs` SIGKILLs a writer mid-stream and checks every acknowledged id).
//! - Bounded: at most `capacity` entries; an append beyond evicts the oldest in the same
//!   transaction and adds them to a persisted `evicted` counter shown with every page.
//! - Ids are monotonic and never reused (the next id is stored with the entries).
//!
//! # Layout
//! - `store.rs` opening, `append`, bounding, `run_blocking`; `read.rs` `get` / `list` / counts;
//!   `replay.rs` `peek` / `remove` / `purge` / `replay_with`; `writer.rs` the group-committing
//!   [`DeadLetterWriter`]; `letter.rs` [`DeadLetter`] and the on-disk record; `entry.rs` what reads hand back
//!   ([`Entry`], [`Page`]); `error.rs`.

mod entry;
mod error;
mod letter;
mod read;
mod replay;
mod store;
mod writer;

#[cfg(test)]
mod tests;

pub use entry::{Entry, FailureRecord, Page};
pub use error::DlqError;
pub use letter::{DeadLetter, now_ms};
/// The stored record of a letter, and back: the cluster's queue (redis mode) keeps the same.
pub(crate) use letter::{decode as decode_letter, encode as encode_letter};
pub use replay::{ReplayError, Selection};
pub use store::{Appended, DeadLetters};
pub use writer::DeadLetterWriter;
