//! Partitioning (Broadway's `partition_by`): messages with the same partition key go to the same
//! processor, which handles them in the order they were published. A failure only fails its
//! message; the partition goes on.
//!
//! The producer stage sorts what it takes from the producer into one queue per processor
//! (`key % active`); a processor is served only from its own queue. The queues together hold
//! at most `bound` messages, so a slow partition holds intake back (as one slow processor does
//! in Broadway) instead of growing a queue.
//!
//! Changing the concurrency of a partitioned pipeline changes the mapping, which could let a
//! key's next message overtake the one still being handled. So the new mapping waits for a
//! quiet moment: no new messages are sorted, every processor finishes its queue and its chunk,
//! and only then does `active` change. Order per key holds across the change.

use super::Message;
use std::collections::VecDeque;
use std::sync::Arc;

/// Extracts a message's partition key.
pub(crate) type KeyFn<T> = Arc<dyn Fn(&Message<T>) -> u64 + Send + Sync>;

pub(crate) struct Partitions<T> {
    key: KeyFn<T>,
    /// One queue per processor slot (the maximum concurrency); the first `active` are in use.
    queues: Vec<VecDeque<Message<T>>>,
    /// Whether each processor holds a chunk it was served (and is handling it now).
    busy: Vec<bool>,
    active: usize,
    /// A new `active` waiting for every queue and processor to be idle.
    pending: Option<usize>,
    queued: usize,
    /// Most messages queued across partitions per active processor.
    per_processor: usize,
}

impl<T> Partitions<T> {
    pub(crate) fn new(key: KeyFn<T>, slots: usize, active: usize, per_processor: usize) -> Self {
        Self {
            key,
            queues: (0..slots).map(|_| VecDeque::new()).collect(),
            busy: vec![false; slots],
            active,
            pending: None,
            queued: 0,
            per_processor: per_processor.max(1),
        }
    }

    /// Processor `me` asks again: the chunk it was served is done.
    pub(crate) fn release(&mut self, me: usize) {
        if let Some(b) = self.busy.get_mut(me) {
            *b = false;
        }
    }

    /// Asks for a new mapping over `active` processors, applied once all is quiet.
    pub(crate) fn remap(&mut self, active: usize) {
        self.pending = (active != self.active).then_some(active);
    }

    /// Applies a pending mapping if nothing is queued or being handled; true if it did.
    pub(crate) fn try_remap(&mut self) -> bool {
        match self.pending {
            Some(n) if self.queued == 0 && !self.busy.iter().any(|b| *b) => {
                self.active = n;
                self.pending = None;
                true
            }
            _ => false,
        }
    }

    /// How many more messages may be sorted in now (none while a new mapping waits).
    pub(crate) fn room(&self) -> usize {
        if self.pending.is_some() {
            return 0;
        }
        (self.active * self.per_processor).saturating_sub(self.queued)
    }

    /// Sorts `messages` into their partitions' queues, in order; calls `woken` once for each
    /// queue that was empty and now is not.
    pub(crate) fn sort(&mut self, messages: Vec<Message<T>>, mut woken: impl FnMut(usize)) {
        let n = self.active.max(1) as u64;
        for m in messages {
            let q = ((self.key)(&m) % n) as usize;
            if self.queues[q].is_empty() {
                woken(q);
            }
            self.queues[q].push_back(m);
            self.queued += 1;
        }
    }

    /// Serves processor `me` up to `limit` messages from its own queue.
    pub(crate) fn serve(&mut self, me: usize, limit: usize) -> Vec<Message<T>> {
        let Some(queue) = self.queues.get_mut(me) else { return Vec::new() };
        let n = queue.len().min(limit);
        let out: Vec<Message<T>> = queue.drain(..n).collect();
        self.queued -= out.len();
        if !out.is_empty() {
            self.busy[me] = true;
        }
        out
    }

    /// Whether `me` has nothing queued (a retiring processor may leave then).
    pub(crate) fn idle(&self, me: usize) -> bool {
        self.queues.get(me).is_none_or(VecDeque::is_empty)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Everything queued (a timed-out drain fails it).
    pub(crate) fn take_all(&mut self) -> Vec<Message<T>> {
        self.queued = 0;
        self.queues.iter_mut().flat_map(|q| q.drain(..)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn partitions(active: usize) -> Partitions<u64> {
        Partitions::new(Arc::new(|m: &Message<u64>| m.data), 4, active, 3)
    }

    fn messages(keys: &[u64]) -> Vec<Message<u64>> {
        keys.iter().map(|k| Message::new(*k, Instant::now())).collect()
    }

    #[test]
    fn a_key_always_lands_in_the_same_queue_in_order() {
        let mut p = partitions(2);
        let mut woken = Vec::new();
        p.sort(messages(&[1, 2, 3, 5]), |q| woken.push(q));
        assert_eq!(woken, [1, 0]);
        assert_eq!(p.room(), 2, "bounded at 3 per active processor");
        let mine: Vec<u64> = p.serve(1, 10).into_iter().map(|m| m.data).collect();
        assert_eq!(mine, [1, 3, 5]);
        assert_eq!(p.serve(0, 10).len(), 1);
        assert!(p.is_empty());
    }

    #[test]
    fn a_new_mapping_waits_until_everything_is_idle() {
        let mut p = partitions(2);
        p.sort(messages(&[0, 1]), |_| {});
        let _chunk = p.serve(0, 10);
        p.remap(3);
        assert_eq!(p.room(), 0, "nothing new is sorted while the change waits");
        assert!(!p.try_remap(), "queue 1 still holds a message, processor 0 a chunk");
        p.serve(1, 10);
        p.release(0);
        assert!(!p.try_remap(), "processor 1 is handling its chunk");
        p.release(1);
        assert!(p.try_remap());
        assert_eq!(p.room(), 9);
        p.sort(messages(&[5]), |_| {});
        assert_eq!(p.serve(2, 10).len(), 1, "5 % 3 = 2 under the new mapping");
    }
}
