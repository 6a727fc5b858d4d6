//! Rate limiting: at most `allowed_messages` leave the producer stage per `interval`, shared by
//! every processor pulling from it (Broadway's `rate_limiting` option, with its
//! `get_rate_limiting` / `update_rate_limiting` at run time).
//!
//! A fixed window, as Broadway's: the allowance refills in full at the start of each interval.
//! The limiter lives with the producer under the producer stage's lock, so taking from it costs
//! no extra synchronisation, and only when a limit is set is the clock read.

use std::time::Duration;
use tokio::time::Instant;

/// A limit: `allowed_messages` per `interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub allowed_messages: u64,
    pub interval: Duration,
}

impl RateLimit {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.allowed_messages == 0 {
            return Err(
                "rate_limit.allowed_messages must be at least 1 (pause the pipeline to stop it)".into()
            );
        }
        if self.interval.is_zero() {
            return Err("rate_limit.interval must be positive".into());
        }
        Ok(())
    }
}

/// The allowance left in the current window.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    limit: Option<RateLimit>,
    window_end: Option<Instant>,
    left: u64,
}

impl RateLimiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self { limit, window_end: None, left: 0 }
    }

    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Replaces the limit (`None` lifts it); a new window starts at once.
    pub(crate) fn update(&mut self, limit: Option<RateLimit>) {
        *self = Self::new(limit);
    }

    /// How many messages may leave now (`usize::MAX` without a limit), or, when none may, the
    /// instant the next window opens.
    pub(crate) fn allowance(&mut self) -> Result<usize, Instant> {
        let Some(limit) = self.limit else { return Ok(usize::MAX) };
        let now = Instant::now();
        match self.window_end {
            Some(end) if now < end => {}
            _ => {
                self.window_end = Some(now + limit.interval);
                self.left = limit.allowed_messages;
            }
        }
        match self.window_end {
            Some(end) if self.left == 0 => Err(end),
            _ => Ok(usize::try_from(self.left).unwrap_or(usize::MAX)),
        }
    }

    /// Counts `n` messages against the current window.
    pub(crate) fn spend(&mut self, n: usize) {
        if self.limit.is_some() {
            self.left = self.left.saturating_sub(n as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_allowance_refills_each_interval() {
        let mut l =
            RateLimiter::new(Some(RateLimit { allowed_messages: 10, interval: Duration::from_secs(1) }));
        assert_eq!(l.allowance(), Ok(10));
        l.spend(7);
        assert_eq!(l.allowance(), Ok(3));
        l.spend(3);
        let Err(next) = l.allowance() else { panic!("spent") };
        assert_eq!(next, Instant::now() + Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(l.allowance(), Ok(10));
    }

    #[tokio::test(start_paused = true)]
    async fn an_update_starts_a_new_window_and_none_lifts_the_limit() {
        let mut l =
            RateLimiter::new(Some(RateLimit { allowed_messages: 1, interval: Duration::from_secs(60) }));
        l.allowance().expect("fresh window");
        l.spend(1);
        assert!(l.allowance().is_err());
        l.update(Some(RateLimit { allowed_messages: 5, interval: Duration::from_secs(1) }));
        assert_eq!(l.allowance(), Ok(5));
        l.update(None);
        assert_eq!(l.allowance(), Ok(usize::MAX));
        l.spend(1_000);
        assert_eq!(l.allowance(), Ok(usize::MAX));
    }

    #[test]
    fn limits_are_validated() {
        assert!(RateLimit { allowed_messages: 0, interval: Duration::from_secs(1) }.validate().is_err());
        assert!(RateLimit { allowed_messages: 1, interval: Duration::ZERO }.validate().is_err());
        assert!(RateLimit { allowed_messages: 1, interval: Duration::from_millis(1) }.validate().is_ok());
    }
}
