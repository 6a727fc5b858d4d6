//! One subscriber's bounded buffer: a queue of whole chunks under a short std lock, bounded in
//! *messages*, with the overflow policy applied as a chunk goes in.
//!
//! Invariant: `len + reserved <= capacity` at every unlock, whatever the publishers do. `len`
//! counts the messages queued, `reserved` the room promised to `try_broadcast` publishers that
//! have not committed yet. A chunk moves in one hand-off (one push, one wake), never per
//! message (`docs/performance.md`). Wakers, not channels: the receiver's waker is woken when
//! a chunk arrives or the buffer ends; blocked publishers' wakers are woken when room frees.
//! Blocked publishers are all woken and race for the room (not first come, first served as
//! the former semaphore was); each waits for room for its whole piece, so chunks stay whole.

use super::{Delivery, Overflow};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// The buffer shared by the hub's side (publishers) and the [`Subscription`](super::Subscription).
pub(crate) struct Buffer<T> {
    state: Mutex<State<T>>,
    /// Set with `state.closed`, read without the lock on the publish path.
    closed: AtomicBool,
    pub(crate) capacity: usize,
    pub(crate) overflow: Overflow,
    /// The owner's counter (for the server: the ledger's "pipeline buffer full").
    shared_lost: Arc<AtomicU64>,
}

struct State<T> {
    queue: VecDeque<Delivery<T>>,
    /// Messages in `queue`.
    len: usize,
    /// Room promised to `try_broadcast` publishers between reserve and commit.
    reserved: usize,
    /// Messages the subscription received.
    delivered: u64,
    /// Messages this subscriber lost (also added to `shared_lost`).
    lost: u64,
    /// The receiver closed (or dropped): no new chunk is accepted.
    closed: bool,
    /// The hub forgot this subscriber (unsubscribed, hub closed): no chunk will come.
    ended: bool,
    receiver: Option<Waker>,
    /// Publishers waiting for room (`Overflow::Block`).
    publishers: Vec<Waker>,
}

/// A snapshot of the counters, for stats.
pub(crate) struct Counts {
    pub(crate) buffered: u64,
    pub(crate) delivered: u64,
    pub(crate) lost: u64,
}

impl<T> State<T> {
    fn room(&self, capacity: usize) -> usize {
        capacity - self.len - self.reserved
    }

    /// Queues a chunk that fits; returns the receiver's waker to wake once unlocked.
    fn push(&mut self, items: Vec<T>, published_at: Instant) -> Option<Waker> {
        self.len += items.len();
        self.queue.push_back(Delivery { items, published_at });
        self.receiver.take()
    }

    /// Drops the `n` oldest queued messages (`Overflow::DropOldest`), trimming the oldest chunk
    /// if it is only partly dropped.
    fn evict_oldest(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.queue.front_mut() else { break };
            if front.items.len() <= n {
                n -= front.items.len();
                self.len -= front.items.len();
                self.queue.pop_front();
            } else {
                front.items.drain(..n);
                self.len -= n;
                n = 0;
            }
        }
    }
}

fn wake(wakers: impl IntoIterator<Item = Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

impl<T> Buffer<T> {
    pub(crate) fn new(capacity: usize, overflow: Overflow, shared_lost: Arc<AtomicU64>) -> Self {
        let state = State {
            queue: VecDeque::new(),
            len: 0,
            reserved: 0,
            delivered: 0,
            lost: 0,
            closed: false,
            ended: false,
            receiver: None,
            publishers: Vec::new(),
        };
        let capacity = capacity.max(1);
        Self { state: Mutex::new(state), closed: AtomicBool::new(false), capacity, overflow, shared_lost }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic never happens under this lock (no user code runs there): recover the state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count_lost(&self, state: &mut State<T>, n: usize) {
        if n > 0 {
            state.lost += n as u64;
            self.shared_lost.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Whether the receiver still takes chunks.
    pub(crate) fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Acquire)
    }

    /// Delivers under a dropping policy (or a `Block` reservation's fallback); never waits.
    /// Returns how many messages were lost.
    pub(crate) fn push_dropping(&self, mut items: Vec<T>, published_at: Instant) -> u64 {
        let n = items.len();
        let mut state = self.lock();
        let kept = if state.closed {
            0
        } else if self.overflow == Overflow::DropOldest {
            // The newest `capacity` of this chunk stay; older queued messages make room.
            let kept = n.min(self.capacity - state.reserved);
            items.drain(..n - kept);
            let over = (state.len + kept).saturating_sub(self.capacity - state.reserved);
            state.evict_oldest(over);
            self.count_lost(&mut state, over);
            kept
        } else {
            let kept = n.min(state.room(self.capacity));
            items.truncate(kept);
            kept
        };
        self.count_lost(&mut state, n - kept);
        let receiver = if kept > 0 { state.push(items, published_at) } else { None };
        drop(state);
        wake(receiver);
        (n - kept) as u64
    }

    /// Delivers under `Overflow::Block`: waits for room for each piece of at most `capacity`
    /// messages, so chunks stay whole when they fit. Returns how many messages were lost
    /// (the receiver closed while this publisher waited).
    pub(crate) async fn push_blocking(&self, mut items: Vec<T>, published_at: Instant) -> u64 {
        while !items.is_empty() {
            let rest = if items.len() > self.capacity { items.split_off(self.capacity) } else { Vec::new() };
            let mut piece = Some(items);
            let accepted = std::future::poll_fn(|cx| self.poll_push(cx, &mut piece, published_at)).await;
            if !accepted {
                let n = piece.map_or(0, |p| p.len()) + rest.len();
                let mut state = self.lock();
                self.count_lost(&mut state, n);
                return n as u64;
            }
            items = rest;
        }
        0
    }

    /// Pushes `piece` if it fits (`Ready(true)`), or waits for room; `Ready(false)` if the
    /// receiver closed (the piece is left in place).
    fn poll_push(&self, cx: &mut Context<'_>, piece: &mut Option<Vec<T>>, at: Instant) -> Poll<bool> {
        let n = piece.as_ref().map_or(0, Vec::len);
        let mut state = self.lock();
        if state.closed {
            return Poll::Ready(false);
        }
        if state.room(self.capacity) >= n {
            let receiver = piece.take().and_then(|items| state.push(items, at));
            drop(state);
            wake(receiver);
            return Poll::Ready(true);
        }
        if !state.publishers.iter().any(|w| w.will_wake(cx.waker())) {
            state.publishers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Promises room for `n` messages to a `try_broadcast`: `Ok(true)` reserved, `Ok(false)` the
    /// receiver is gone (nothing to reserve), `Err(room)` not enough room.
    pub(crate) fn try_reserve(&self, n: usize) -> Result<bool, usize> {
        let mut state = self.lock();
        if state.closed {
            return Ok(false);
        }
        let room = state.room(self.capacity);
        if room < n {
            return Err(room);
        }
        state.reserved += n;
        Ok(true)
    }

    /// Gives back a reservation that will not be used; wakes blocked publishers (the room was
    /// hidden from them meanwhile).
    pub(crate) fn release(&self, n: usize) {
        let mut state = self.lock();
        state.reserved -= n;
        let publishers = std::mem::take(&mut state.publishers);
        drop(state);
        wake(publishers);
    }

    /// Fills a reservation made by [`try_reserve`](Self::try_reserve) with `items.len()`
    /// messages; returns how many were lost (the receiver closed in between).
    pub(crate) fn commit(&self, items: Vec<T>, published_at: Instant) -> u64 {
        let n = items.len();
        let mut state = self.lock();
        state.reserved -= n;
        if n == 0 {
            return 0; // an empty chunk is not queued: a receiver only ever gets messages
        }
        if state.closed {
            self.count_lost(&mut state, n);
            return n as u64;
        }
        let receiver = state.push(items, published_at);
        drop(state);
        wake(receiver);
        0
    }

    /// The next chunk; `Ready(None)` once closed or ended and empty; else `Pending` with the
    /// receiver's waker stored.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<Delivery<T>>> {
        let mut state = self.lock();
        if !state.queue.is_empty() {
            return Poll::Ready(Self::pop(state));
        }
        if state.closed || state.ended {
            return Poll::Ready(None);
        }
        if !state.receiver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            state.receiver = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The next chunk if one is queued now.
    pub(crate) fn try_pop(&self) -> Option<Delivery<T>> {
        Self::pop(self.lock())
    }

    /// Takes the oldest chunk, unlocks, then wakes the publishers waiting for room (waking
    /// under the lock would make them contend for it at once).
    fn pop(mut state: MutexGuard<'_, State<T>>) -> Option<Delivery<T>> {
        let delivery = state.queue.pop_front()?;
        state.len -= delivery.items.len();
        state.delivered += delivery.items.len() as u64;
        let publishers =
            if state.publishers.is_empty() { Vec::new() } else { std::mem::take(&mut state.publishers) };
        drop(state);
        wake(publishers);
        Some(delivery)
    }

    /// The receiver stops taking chunks; what is queued can still be received. Blocked
    /// publishers wake, see it closed and count their messages lost.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        self.closed.store(true, Ordering::Release);
        let publishers = std::mem::take(&mut state.publishers);
        drop(state);
        wake(publishers);
    }

    /// The receiver is gone: closes and counts what was still queued as lost.
    pub(crate) fn abandon(&self) {
        self.close();
        let mut state = self.lock();
        let left = state.len;
        state.queue.clear();
        state.len = 0;
        self.count_lost(&mut state, left);
    }

    /// The hub forgot this subscriber: the receiver sees the end once the queue is empty.
    pub(crate) fn end(&self) {
        let mut state = self.lock();
        state.ended = true;
        let receiver = state.receiver.take();
        drop(state);
        wake(receiver);
    }

    /// Messages queued now.
    pub(crate) fn buffered(&self) -> u64 {
        self.lock().len as u64
    }

    pub(crate) fn counts(&self) -> Counts {
        let state = self.lock();
        Counts { buffered: state.len as u64, delivered: state.delivered, lost: state.lost }
    }
}
