//! Rates over the last second, from periodic samples of monotonic counters.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back a rate looks.
const WINDOW: Duration = Duration::from_secs(1);

/// Samples of (time, acked, failed), kept just long enough to span [`WINDOW`].
#[derive(Default)]
pub(crate) struct Rates {
    samples: VecDeque<(Instant, u64, u64)>,
}

impl Rates {
    pub(crate) fn sample(&mut self, at: Instant, acked: u64, failed: u64) {
        self.samples.push_back((at, acked, failed));
        // Keep one sample at least WINDOW old so the rate spans a full window.
        while self.samples.len() > 2 && at.duration_since(self.samples[1].0) >= WINDOW {
            self.samples.pop_front();
        }
    }

    fn per_s(&self, pick: fn(&(Instant, u64, u64)) -> u64) -> f64 {
        let (Some(first), Some(last)) = (self.samples.front(), self.samples.back()) else {
            return 0.0;
        };
        let dt = last.0.duration_since(first.0).as_secs_f64();
        if dt <= 0.0 { 0.0 } else { pick(last).saturating_sub(pick(first)) as f64 / dt }
    }

    pub(crate) fn acked_per_s(&self) -> f64 {
        self.per_s(|s| s.1)
    }

    pub(crate) fn failed_per_s(&self) -> f64 {
        self.per_s(|s| s.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_the_last_second() {
        let t0 = Instant::now();
        let mut r = Rates::default();
        assert_eq!(r.acked_per_s(), 0.0);
        for i in 0..=20u64 {
            // 1,000 acks and 10 failures every 100 ms: 10,000/s and 100/s.
            r.sample(t0 + Duration::from_millis(100 * i), 1_000 * i, 10 * i);
        }
        assert!((r.acked_per_s() - 10_000.0).abs() < 1e-6, "{}", r.acked_per_s());
        assert!((r.failed_per_s() - 100.0).abs() < 1e-6);
        assert!(r.samples.len() <= 12, "old samples are dropped");
    }

    #[test]
    fn idle_after_traffic_reads_zero() {
        let t0 = Instant::now();
        let mut r = Rates::default();
        r.sample(t0, 0, 0);
        r.sample(t0 + Duration::from_millis(100), 500, 0);
        for i in 2..40 {
            r.sample(t0 + Duration::from_millis(100 * i), 500, 0);
        }
        assert_eq!(r.acked_per_s(), 0.0);
    }
}
