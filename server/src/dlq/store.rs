//! The store itself: opening the file, the bounded durable `append`, and running blocking
//! calls off the async runtime. Reads are in `read.rs`, taking letters out in `replay.rs`.

use super::letter::{encode, now_ms};
use super::{DeadLetter, DlqError};
use redb::{Database, Durability, ReadableTableMetadata, TableDefinition, WriteTransaction};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Entries by id; the value is the JSON record of `letter.rs`.
pub(crate) const LETTERS: TableDefinition<u64, &[u8]> = TableDefinition::new("letters");
/// Counters that must survive restarts (keys below).
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The id the next letter gets (ids start at 1): never reused, even after a purge or a restart.
pub(crate) const NEXT_ID: &str = "next_id";
/// Entries dropped since the store was created because it was full.
pub(crate) const EVICTED: &str = "evicted_total";

/// The dead-letter store: a cheap-clone handle (one `Arc`) on one redb file.
///
/// Every method blocks on disk I/O: from async code, call them through
/// [`DeadLetters::run_blocking`] or append through a [`super::DeadLetterWriter`].
#[derive(Clone)]
pub struct DeadLetters {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for DeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetters")
            .field("path", &self.inner.path)
            .field("capacity", &self.inner.capacity)
            .finish()
    }
}

pub(crate) struct Inner {
    pub(crate) db: Database,
    pub(crate) path: PathBuf,
    pub(crate) capacity: u64,
}

/// What one `append` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// The ids given to the letters, in the order they were passed. Once returned they are on
    /// disk; an id may already be gone if the batch itself overflowed the capacity.
    pub ids: Vec<u64>,
    /// How many of the oldest entries this commit evicted to stay within capacity.
    pub evicted: u64,
}

impl DeadLetters {
    /// Opens the store at `path` (creating it and its parent directories if needed), keeping
    /// at most `capacity` entries. A store reopened with a smaller capacity drops its oldest
    /// entries (counted as evicted). After a crash, redb repairs the file on open.
    pub fn open(path: impl AsRef<Path>, capacity: usize) -> Result<Self, DlqError> {
        let path = path.as_ref().to_path_buf();
        if capacity == 0 {
            return Err(DlqError::ZeroCapacity);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DlqError::CreateDir { path: dir.to_path_buf(), source: Arc::new(e) })?;
        }
        let db = Database::create(&path)
            .map_err(|e| DlqError::Open { path: path.clone(), source: Arc::new(e) })?;
        let store = Self { inner: Arc::new(Inner { db, path, capacity: capacity as u64 }) };
        let txn = store.inner.write()?;
        {
            let mut letters = txn.open_table(LETTERS).map_err(|e| store.inner.storage(e))?;
            let mut meta = txn.open_table(META).map_err(|e| store.inner.storage(e))?;
            store.inner.trim(&mut letters, &mut meta)?;
        }
        txn.commit().map_err(|e| store.inner.storage(e))?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The most entries it keeps.
    pub fn capacity(&self) -> u64 {
        self.inner.capacity
    }

    /// Stores `letters` in one write transaction, fsynced before it returns: only after `Ok`
    /// may the caller acknowledge them as dead-lettered. On error nothing was written. If the
    /// store is then over capacity, the oldest entries are evicted in the same transaction.
    pub fn append(&self, letters: &[DeadLetter]) -> Result<Appended, DlqError> {
        if letters.is_empty() {
            return Ok(Appended::default());
        }
        let at = now_ms();
        let encoded = letters.iter().map(|l| encode(l, at)).collect::<Result<Vec<_>, _>>()?;
        let inner = &self.inner;
        let txn = inner.write()?;
        let appended = {
            let mut table = txn.open_table(LETTERS).map_err(|e| inner.storage(e))?;
            let mut meta = txn.open_table(META).map_err(|e| inner.storage(e))?;
            let first = counter(&meta, NEXT_ID).map_err(|e| inner.storage(e))?.max(1);
            let mut ids = Vec::with_capacity(encoded.len());
            for (id, bytes) in (first..).zip(&encoded) {
                table.insert(id, bytes.as_slice()).map_err(|e| inner.storage(e))?;
                ids.push(id);
            }
            meta.insert(NEXT_ID, first + ids.len() as u64).map_err(|e| inner.storage(e))?;
            let evicted = inner.trim(&mut table, &mut meta)?;
            Appended { ids, evicted }
        };
        txn.commit().map_err(|e| inner.storage(e))?;
        Ok(appended)
    }

    /// Runs blocking store calls on tokio's blocking pool, so async code never stalls a worker
    /// on an fsync: `store.run_blocking(|s| s.list(None, 50)).await`.
    pub async fn run_blocking<R, F>(&self, f: F) -> Result<R, DlqError>
    where
        R: Send + 'static,
        F: FnOnce(&DeadLetters) -> Result<R, DlqError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| DlqError::Task { path: self.inner.path.clone(), why: e.to_string() })?
    }
}

impl Inner {
    /// A write transaction that fsyncs on commit (redb's default, made explicit).
    pub(crate) fn write(&self) -> Result<WriteTransaction, DlqError> {
        let mut txn = self.db.begin_write().map_err(|e| self.storage(e))?;
        txn.set_durability(Durability::Immediate).map_err(|e| self.storage(e))?;
        Ok(txn)
    }

    /// Names this store in a redb error.
    pub(crate) fn storage(&self, e: impl Into<redb::Error>) -> DlqError {
        DlqError::Storage { path: self.path.clone(), source: Arc::new(e.into()) }
    }

    /// Evicts the oldest entries beyond capacity and adds them to the persisted counter.
    fn trim(
        &self,
        letters: &mut redb::Table<u64, &[u8]>,
        meta: &mut redb::Table<&str, u64>,
    ) -> Result<u64, DlqError> {
        let len = letters.len().map_err(|e| self.storage(e))?;
        let over = len.saturating_sub(self.capacity);
        for _ in 0..over {
            letters.pop_first().map_err(|e| self.storage(e))?;
        }
        if over > 0 {
            let total = counter(meta, EVICTED).map_err(|e| self.storage(e))?;
            meta.insert(EVICTED, total + over).map_err(|e| self.storage(e))?;
        }
        Ok(over)
    }
}

/// A counter from the meta table (0 if never written).
pub(crate) fn counter(
    meta: &impl redb::ReadableTable<&'static str, u64>,
    key: &str,
) -> Result<u64, redb::StorageError> {
    Ok(meta.get(key)?.map_or(0, |v| v.value()))
}
