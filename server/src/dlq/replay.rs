//! Taking letters out without losing any: `peek` what to replay, publish it, then `remove` it
//! (at least once: a crash between the two replays those letters twice, never zero times);
//! `replay_with` runs that loop; `purge` empties the queue.

use super::Entry;
use super::store::LETTERS;
use super::{DeadLetters, DlqError};
use redb::ReadableTableMetadata;
use std::future::Future;

/// Which letters to replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Everything in the queue.
    All,
    /// These ids (ids no longer in the queue are skipped).
    Ids(Vec<u64>),
}

/// Why `replay_with` stopped early. Letters already published and removed stay replayed;
/// the rest stay in the queue.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError<E> {
    /// Reading or removing failed.
    #[error(transparent)]
    Store(#[from] DlqError),
    /// The publish callback failed; its chunk was not removed.
    #[error("replay stopped after {replayed} letters: publishing failed: {error}")]
    Publish { replayed: u64, error: E },
}

impl DeadLetters {
    /// Up to `limit` selected entries with ids above `after` (`None`: from the start),
    /// **oldest first** (the order they failed in). Nothing is removed.
    pub fn peek(
        &self,
        selection: &Selection,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Entry>, DlqError> {
        let Some(table) = self.letters(&self.read()?)? else { return Ok(Vec::new()) };
        let Some(from) = after.map_or(Some(0), |a| a.checked_add(1)) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        match selection {
            Selection::All => {
                let range = table.range(from..).map_err(|e| self.inner.storage(e))?;
                for item in range.take(limit) {
                    let (id, bytes) = item.map_err(|e| self.inner.storage(e))?;
                    out.push(self.decode(id.value(), bytes.value())?);
                }
            }
            Selection::Ids(ids) => {
                let mut ids: Vec<u64> = ids.iter().copied().filter(|&id| id >= from).collect();
                ids.sort_unstable();
                ids.dedup();
                for id in ids {
                    if out.len() == limit {
                        break;
                    }
                    if let Some(bytes) = table.get(id).map_err(|e| self.inner.storage(e))? {
                        out.push(self.decode(id, bytes.value())?);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Removes these ids (durably, one transaction) once the caller has re-published them;
    /// returns how many were still there.
    pub fn remove(&self, ids: &[u64]) -> Result<u64, DlqError> {
        let txn = self.inner.write()?;
        let mut removed = 0;
        {
            let mut table = txn.open_table(LETTERS).map_err(|e| self.inner.storage(e))?;
            for &id in ids {
                if table.remove(id).map_err(|e| self.inner.storage(e))?.is_some() {
                    removed += 1;
                }
            }
        }
        txn.commit().map_err(|e| self.inner.storage(e))?;
        Ok(removed)
    }

    /// Empties the queue (durably); returns how many entries it removed. Ids keep counting
    /// and the evicted counter is kept: a purge is deliberate, not a loss.
    pub fn purge(&self) -> Result<u64, DlqError> {
        let txn = self.inner.write()?;
        let removed = {
            let mut table = txn.open_table(LETTERS).map_err(|e| self.inner.storage(e))?;
            let n = table.len().map_err(|e| self.inner.storage(e))?;
            table.retain(|_, _| false).map_err(|e| self.inner.storage(e))?;
            n
        };
        txn.commit().map_err(|e| self.inner.storage(e))?;
        Ok(removed)
    }

    /// Replays the selection in chunks of `chunk`, oldest first: `publish` each chunk, and
    /// remove it only once `publish` returned `Ok`. Letters dead-lettered during the replay
    /// (e.g. a replayed message failing again) are left for the next one, so this ends.
    /// Returns how many letters were replayed. Runs store calls on the blocking pool.
    pub async fn replay_with<F, Fut, E>(
        &self,
        selection: Selection,
        chunk: usize,
        mut publish: F,
    ) -> Result<u64, ReplayError<E>>
    where
        F: FnMut(Vec<Entry>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let chunk = chunk.max(1);
        let Some(up_to) = self.run_blocking(|s| s.last_id()).await? else { return Ok(0) };
        let mut after = None;
        let mut replayed = 0;
        loop {
            let sel = selection.clone();
            let mut entries = self.run_blocking(move |s| s.peek(&sel, after, chunk)).await?;
            entries.retain(|e| e.id <= up_to);
            let Some(last) = entries.last().map(|e| e.id) else { return Ok(replayed) };
            after = Some(last);
            let ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
            let published = ids.len() as u64;
            publish(entries).await.map_err(|error| ReplayError::Publish { replayed, error })?;
            self.run_blocking(move |s| s.remove(&ids)).await?;
            replayed += published;
        }
    }
}
