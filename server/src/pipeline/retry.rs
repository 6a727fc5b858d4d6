//! Retries: the policy (how many attempts, exponential back-off with jitter) and the queue of
//! failed messages waiting for their next attempt.
//!
//! A message that fails (in a handler, by a panic, or because its stage crashed) is not
//! acknowledged while it has attempts left and its failure is not permanent: it waits here
//! until its back-off has passed, then the producer stage hands it out again before anything
//! new. The queue is bounded (`max_pending`): a failure that finds it full is final, so memory
//! stays bounded however much fails. Once intake has finished (the producer is exhausted or the
//! pipeline drains) no new retry is queued, and what waits is handed out at once, so a drain
//! ends after at most one more attempt per message.

use super::Message;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;
use tokio::time::Instant;

/// How failed messages are retried (Broadway has no retries: broadway#50, #303).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (1 = never retry). Default 3.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles with each further one. Default 100 ms.
    pub backoff: Duration,
    /// Longest wait between attempts. Default 5 s.
    pub max_backoff: Duration,
    /// Share of each wait that is random, 0.0..=1.0 (0.5: waits are 50-100 % of the nominal
    /// back-off), so messages that failed together do not come back together. Default 0.5.
    pub jitter: f64,
    /// Most messages waiting for a retry at once; a failure beyond that is final. Default
    /// 10 000.
    pub max_pending: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            jitter: 0.5,
            max_pending: 10_000,
        }
    }
}

impl RetryPolicy {
    /// The nominal wait before attempt `attempt + 1` (after `attempt` failures): `backoff ×
    /// 2^(attempt-1)`, at most `max_backoff`.
    pub fn nominal_backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.backoff.saturating_mul(1 << doublings).min(self.max_backoff)
    }

    /// The wait with jitter applied, `random` being uniform in 0..1.
    pub fn backoff_with(&self, attempt: u32, random: f64) -> Duration {
        let nominal = self.nominal_backoff(attempt);
        nominal.mul_f64(1.0 - self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0))
    }

    /// Whether a message that just failed its `attempt`-th attempt gets another.
    pub(crate) fn retries<T>(&self, message: &Message<T>) -> bool {
        !message.acked
            && message.attempt() < self.max_attempts
            && message.failure().is_some_and(|f| !f.permanent)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.max_attempts == 0 {
            return Err("retry.max_attempts must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(format!("retry.jitter ({}) must be within 0.0..=1.0", self.jitter));
        }
        if self.backoff > self.max_backoff {
            return Err(format!(
                "retry.backoff ({:?}) must not exceed retry.max_backoff ({:?})",
                self.backoff, self.max_backoff
            ));
        }
        if self.max_pending == 0 {
            return Err("retry.max_pending must be at least 1".into());
        }
        Ok(())
    }
}

/// One message waiting for its next attempt.
struct Waiting<T> {
    due: Instant,
    seq: u64,
    message: Message<T>,
}

impl<T> PartialEq for Waiting<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl<T> Eq for Waiting<T> {}
impl<T> PartialOrd for Waiting<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Waiting<T> {
    /// Reversed: the heap's top is the earliest due (ties: the first queued).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// Failed messages waiting for their back-off to pass, earliest first.
pub(crate) struct RetryQueue<T> {
    policy: RetryPolicy,
    heap: BinaryHeap<Waiting<T>>,
    seq: u64,
    rng: fastrand::Rng,
    /// Messages queued for a retry since start.
    pub retried: u64,
}

impl<T> RetryQueue<T> {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self { policy, heap: BinaryHeap::new(), seq: 0, rng: fastrand::Rng::new(), retried: 0 }
    }

    pub(crate) fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Queues the failed messages that get another attempt; the others stay in `failed`.
    pub(crate) fn offer(&mut self, failed: &mut Vec<Message<T>>, now: Instant) {
        if !failed.iter().any(|m| self.policy.retries(m)) {
            return;
        }
        let mut i = 0;
        while i < failed.len() {
            if self.heap.len() < self.policy.max_pending && self.policy.retries(&failed[i]) {
                let mut message = failed.swap_remove(i);
                let wait = self.policy.backoff_with(message.attempt(), self.rng.f64());
                message.reset_for_retry();
                self.seq += 1;
                self.retried += 1;
                self.heap.push(Waiting { due: now + wait, seq: self.seq, message });
            } else {
                i += 1;
            }
        }
    }

    /// Moves up to `limit` messages whose back-off has passed (all of them, due or not, when
    /// `all` is set: the drain) into `out`.
    pub(crate) fn take_due(&mut self, now: Instant, all: bool, limit: usize, out: &mut Vec<Message<T>>) {
        while out.len() < limit {
            match self.heap.peek() {
                Some(w) if all || w.due <= now => {
                    if let Some(w) = self.heap.pop() {
                        out.push(w.message);
                    }
                }
                _ => break,
            }
        }
    }

    /// When the next message becomes due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|w| w.due)
    }

    /// Everything still waiting (a timed-out drain fails it).
    pub(crate) fn take_all(&mut self) -> Vec<Message<T>> {
        self.heap.drain().map(|w| w.message).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kind: &'static str, permanent: bool) -> Message<u32> {
        let mut m = Message::new(1, std::time::Instant::now());
        if permanent {
            m.fail_permanently(kind, "x")
        } else {
            m.fail(kind, "x")
        }
        m
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_only_shortens_it() {
        let p = RetryPolicy {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        let waits: Vec<u128> = (1..=5).map(|a| p.nominal_backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        assert_eq!(p.backoff_with(2, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff_with(2, 1.0), Duration::from_millis(100), "jitter 0.5 halves at most");
        assert_eq!(p.nominal_backoff(u32::MAX), Duration::from_millis(500), "no overflow");
    }

    #[test]
    fn permanent_failures_and_last_attempts_are_not_retried() {
        let p = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
        assert!(p.retries(&failed("panic", false)));
        assert!(!p.retries(&failed("invalid", true)));
        let mut second = failed("panic", false);
        second.reset_for_retry();
        second.fail("panic", "again");
        assert!(!p.retries(&second), "2 of 2 attempts made");
    }

    #[tokio::test(start_paused = true)]
    async fn the_queue_hands_messages_back_once_due_and_is_bounded() {
        let policy = RetryPolicy { jitter: 0.0, max_pending: 2, ..RetryPolicy::default() };
        let mut q = RetryQueue::new(policy);
        let now = Instant::now();
        let mut batch = vec![failed("a", false), failed("b", true), failed("c", false), failed("d", false)];
        q.offer(&mut batch, now);
        assert_eq!(q.len(), 2, "bounded by max_pending");
        assert_eq!(batch.len(), 2, "the permanent one and the one that found the queue full");
        let mut out = Vec::new();
        q.take_due(now, false, 10, &mut out);
        assert!(out.is_empty(), "not due yet");
        assert_eq!(q.next_due(), Some(now + Duration::from_millis(100)));
        q.take_due(now + Duration::from_millis(100), false, 1, &mut out);
        assert_eq!(out.len(), 1, "limit respected");
        assert!(out[0].is_ok() && out[0].attempt() == 2);
        q.take_due(now, true, 10, &mut out);
        assert_eq!((out.len(), q.is_empty(), q.retried), (2, true, 2), "a drain takes all at once");
    }
}
