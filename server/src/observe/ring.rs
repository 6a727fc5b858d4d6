//! A fixed-size ring buffer with sequence numbers: the storage behind the dashboard's history
//! and log tail. It never grows past its capacity, so its memory is known up front, and a
//! reader asks for "everything after sequence N" to get only what it has not seen.

use std::collections::VecDeque;

/// At most `capacity` items; pushing onto a full ring drops the oldest.
#[derive(Debug)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// Sequence number the next pushed item gets (the first is 1).
    next: u64,
}

impl<T> Ring<T> {
    /// An empty ring holding at most `capacity` items (at least one). The storage is allocated
    /// now, once.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self { items: VecDeque::with_capacity(capacity), capacity, next: 1 }
    }

    /// Appends `item`, dropping the oldest if full, and returns its sequence number.
    pub fn push(&mut self, item: T) -> u64 {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
        self.next += 1;
        self.next - 1
    }

    /// The sequence number of the newest item (0 when nothing was ever pushed).
    pub fn last_seq(&self) -> u64 {
        self.next - 1
    }

    /// Items after sequence `since`, oldest first, with their sequence numbers. A `since` older
    /// than what is kept yields everything kept.
    pub fn after(&self, since: u64) -> impl DoubleEndedIterator<Item = (u64, &T)> {
        let first = self.next - self.items.len() as u64;
        let skip = since.saturating_add(1).saturating_sub(first).min(self.items.len() as u64) as usize;
        self.items.iter().enumerate().skip(skip).map(move |(i, item)| (first + i as u64, item))
    }

    /// Items kept now.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The most items it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    fn seqs<T>(ring: &Ring<T>, since: u64) -> Vec<u64> {
        ring.after(since).map(|(s, _)| s).collect()
    }

    #[test]
    fn keeps_at_most_its_capacity() {
        let mut ring = Ring::new(3);
        for i in 0..10 {
            ring.push(i);
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.capacity(), 3);
        assert_eq!(ring.after(0).map(|(_, v)| *v).collect::<Vec<_>>(), vec![7, 8, 9]);
    }

    #[test]
    fn sequence_numbers_survive_wraparound() {
        let mut ring = Ring::new(4);
        assert_eq!(ring.last_seq(), 0);
        for i in 1..=6u64 {
            assert_eq!(ring.push(i * 10), i);
        }
        assert_eq!(seqs(&ring, 0), vec![3, 4, 5, 6]);
        assert_eq!(seqs(&ring, 4), vec![5, 6]);
        assert_eq!(ring.after(5).next().map(|(s, v)| (s, *v)), Some((6, 60)));
        assert!(seqs(&ring, 6).is_empty());
        assert!(seqs(&ring, 99).is_empty());
        assert_eq!(ring.last_seq(), 6);
    }

    #[test]
    fn a_zero_capacity_ring_still_holds_one() {
        let mut ring = Ring::new(0);
        ring.push('a');
        ring.push('b');
        assert_eq!(ring.after(0).map(|(_, c)| *c).collect::<String>(), "b");
        assert!(!ring.is_empty());
    }

    #[test]
    fn newest_first_by_reversing() {
        let mut ring = Ring::new(5);
        for i in 0..5 {
            ring.push(i);
        }
        assert_eq!(ring.after(0).rev().take(2).map(|(_, v)| *v).collect::<Vec<_>>(), vec![4, 3]);
    }
}
