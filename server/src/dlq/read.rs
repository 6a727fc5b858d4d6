//! Reading the store: one entry, a page for the UI, the counts. Each read is one redb read
//! transaction (a consistent snapshot; readers never wait for the writer).

use super::letter::decode;
use super::store::{EVICTED, LETTERS, META, counter};
use super::{DeadLetters, DlqError};
use super::{Entry, Page};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableError};
use std::sync::Arc;

impl DeadLetters {
    /// The entry with this id, if it is still in the queue.
    pub fn get(&self, id: u64) -> Result<Option<Entry>, DlqError> {
        let Some(table) = self.letters(&self.read()?)? else { return Ok(None) };
        let found = table.get(id).map_err(|e| self.inner.storage(e))?;
        found.map(|v| self.decode(id, v.value())).transpose()
    }

    /// Entries in the queue now.
    pub fn len(&self) -> Result<u64, DlqError> {
        let Some(table) = self.letters(&self.read()?)? else { return Ok(0) };
        table.len().map_err(|e| self.inner.storage(e))
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> Result<bool, DlqError> {
        Ok(self.len()? == 0)
    }

    /// Entries evicted since the store was created because it was full.
    pub fn evicted(&self) -> Result<u64, DlqError> {
        let txn = self.read()?;
        match txn.open_table(META) {
            Ok(meta) => counter(&meta, EVICTED).map_err(|e| self.inner.storage(e)),
            Err(TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(self.inner.storage(e)),
        }
    }

    /// One page for the UI, **newest first**: up to `limit` entries with ids below `before`
    /// (`None`: from the newest). The next page is `list(Some(last entry's id), limit)`.
    /// `total`, `evicted` and `capacity` come from the same snapshot as the entries.
    pub fn list(&self, before: Option<u64>, limit: usize) -> Result<Page, DlqError> {
        let txn = self.read()?;
        let evicted = match txn.open_table(META) {
            Ok(meta) => counter(&meta, EVICTED).map_err(|e| self.inner.storage(e))?,
            Err(TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(self.inner.storage(e)),
        };
        let mut page = Page { evicted, capacity: self.inner.capacity, ..Default::default() };
        let Some(table) = self.letters(&txn)? else { return Ok(page) };
        page.total = table.len().map_err(|e| self.inner.storage(e))?;
        let range = table.range(..before.unwrap_or(u64::MAX)).map_err(|e| self.inner.storage(e))?;
        for item in range.rev().take(limit) {
            let (id, bytes) = item.map_err(|e| self.inner.storage(e))?;
            page.entries.push(self.decode(id.value(), bytes.value())?);
        }
        Ok(page)
    }

    /// The id of the newest entry, if any.
    pub fn last_id(&self) -> Result<Option<u64>, DlqError> {
        let Some(table) = self.letters(&self.read()?)? else { return Ok(None) };
        let last = table.last().map_err(|e| self.inner.storage(e))?;
        Ok(last.map(|(k, _)| k.value()))
    }

    pub(crate) fn read(&self) -> Result<ReadTransaction, DlqError> {
        self.inner.db.begin_read().map_err(|e| self.inner.storage(e))
    }

    /// The letters table in a snapshot (`None` only if it was never created).
    pub(crate) fn letters(
        &self,
        txn: &ReadTransaction,
    ) -> Result<Option<redb::ReadOnlyTable<u64, &'static [u8]>>, DlqError> {
        match txn.open_table(LETTERS) {
            Ok(t) => Ok(Some(t)),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(self.inner.storage(e)),
        }
    }

    pub(crate) fn decode(&self, id: u64, bytes: &[u8]) -> Result<Entry, DlqError> {
        decode(id, bytes).map_err(|e| DlqError::Decode {
            path: self.inner.path.clone(),
            id,
            source: Arc::new(e),
        })
    }
}
