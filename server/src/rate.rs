//! The ingest rate per client: events a client address may post to `/api/events` per second,
//! with bursts of up to a second's worth (`--ingest-rate-per-client`). `governor`'s keyed GCRA
//! does the counting; this file turns its answer into a wait in whole seconds for
//! `Retry-After`, and forgets addresses that went quiet so the table cannot grow without end.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Why a client's events were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum RateRefusal {
    /// Over the rate now: retry after this many seconds.
    #[error(
        "this client is over its ingest rate of {rate} events/s (--ingest-rate-per-client); retry in {retry_after_s} s"
    )]
    Over { rate: u32, retry_after_s: u64 },
    /// One request with more events than a second's burst: it can never pass.
    #[error(
        "{events} events in one request is more than this client's rate of {rate} events/s allows at once; send smaller batches"
    )]
    TooMany { events: usize, rate: u32 },
}

/// Addresses remembered before the quiet ones are forgotten.
const FORGET_PAST: usize = 10_000;

/// The per-client limiter. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PerClient {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    rate: NonZeroU32,
}

impl PerClient {
    /// `rate` events per second per address, bursts of `rate`.
    pub(crate) fn new(rate: u32) -> Self {
        let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
        Self { limiter: Arc::new(RateLimiter::keyed(Quota::per_second(rate))), rate }
    }

    /// Takes `events` from `client`'s allowance, or says how long to wait.
    pub(crate) fn check(&self, client: IpAddr, events: usize) -> Result<(), RateRefusal> {
        let rate = self.rate.get();
        let Some(n) = u32::try_from(events).ok().and_then(NonZeroU32::new) else { return Ok(()) };
        if self.limiter.len() > FORGET_PAST {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key_n(&client, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(RateRefusal::Over { rate, retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64 })
            }
            Err(_) => Err(RateRefusal::TooMany { events, rate }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn a_client_gets_a_seconds_burst_then_waits() {
        let limit = PerClient::new(100);
        assert_eq!(limit.check(A, 60), Ok(()));
        assert_eq!(limit.check(A, 40), Ok(()));
        match limit.check(A, 10) {
            Err(RateRefusal::Over { rate: 100, retry_after_s }) => assert!((1..=1).contains(&retry_after_s)),
            other => panic!("expected a wait, got {other:?}"),
        }
        // Another address has its own allowance.
        assert_eq!(limit.check(B, 100), Ok(()));
    }

    #[test]
    fn a_request_larger_than_the_burst_is_refused_as_such() {
        let limit = PerClient::new(100);
        assert_eq!(limit.check(A, 101), Err(RateRefusal::TooMany { events: 101, rate: 100 }));
        assert_eq!(limit.check(A, 0), Ok(()), "nothing to count");
        assert_eq!(limit.check(A, 100), Ok(()), "the refused request took nothing");
    }
}
