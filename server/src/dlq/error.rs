//! What can go wrong with the dead-letter store, each error naming the file it concerns.

use std::path::PathBuf;
use std::sync::Arc;

/// Why a dead-letter operation failed. `Clone` (sources behind `Arc`) so the group-committing
/// writer can give every caller of a failed commit the same error.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DlqError {
    /// The store needs at least one slot.
    #[error("dead-letter store: capacity must be at least 1")]
    ZeroCapacity,
    /// The data directory could not be created (a file in the way, no permission, ...).
    #[error("dead-letter store: cannot create the directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file exists but is not a redb database, is damaged beyond repair, or is held open
    /// by another process or handle.
    #[error("dead-letter store: cannot open {} (not a dead-letter store, corrupt, or already open): {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: Arc<redb::DatabaseError>,
    },
    /// A read or write failed (I/O error, disk full, ...). A failed write changed nothing:
    /// the letters it carried are not dead-lettered and must not be acknowledged as such.
    #[error("dead-letter store {}: {source}", path.display())]
    Storage {
        path: PathBuf,
        #[source]
        source: Arc<redb::Error>,
    },
    /// A stored entry could not be decoded: written by an incompatible version, or damaged.
    #[error("dead-letter store {}: entry {id} cannot be decoded: {source}", path.display())]
    Decode {
        path: PathBuf,
        id: u64,
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// A payload could not be turned into JSON (typed helpers only).
    #[error("dead-letter payload cannot be encoded as JSON: {0}")]
    Encode(#[source] Arc<serde_json::Error>),
    /// The blocking task running a store call panicked or was cancelled.
    #[error("dead-letter store {}: the blocking task failed: {why}", path.display())]
    Task { path: PathBuf, why: String },
    /// Redis mode: the cluster's queue in Redis could not be read or changed.
    #[error("dead-letter queue in redis: {0}")]
    Cluster(String),
    /// The writer task is gone (its runtime shut down): nothing sent now is written.
    #[error("dead-letter writer has stopped: the letters were not written")]
    WriterStopped,
}
