//! Histograms for the pipeline's metrics: nanosecond histograms, the windows they are folded
//! into (current, previous, all-time) and the percentiles the snapshot reports.

use super::stats::Percentiles;
use super::telemetry::LatencySample;
use hdrhistogram::Histogram;
use std::time::Duration;

/// A histogram of nanoseconds, 1 ns to 60 s at 2 significant digits: ~28 KB.
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 2).expect("constant bounds are valid")
}

/// A placeholder for histograms a role never records into.
pub(crate) fn small() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 2, 1).expect("constant bounds are valid")
}

pub(crate) fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

pub(crate) fn record(h: &mut Histogram<u64>, samples: &[LatencySample]) {
    for s in samples {
        h.saturating_record_n(nanos(s.latency), u64::from(s.count));
    }
}

/// A histogram folded into the current window, the previous one and the all-time total.
pub(crate) struct Windowed {
    pub current: Histogram<u64>,
    pub previous: Histogram<u64>,
    pub total: Histogram<u64>,
}

impl Windowed {
    pub(crate) fn new() -> Self {
        Self { current: histogram(), previous: histogram(), total: histogram() }
    }

    pub(crate) fn absorb(&mut self, from: &mut Histogram<u64>) {
        if from.is_empty() {
            return;
        }
        // Same bounds everywhere: adding cannot fail.
        let _ = self.current.add(&*from);
        let _ = self.total.add(&*from);
        from.reset();
    }

    pub(crate) fn rotate(&mut self) {
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.reset();
    }

    pub(crate) fn recent(&self) -> Histogram<u64> {
        let mut h = self.previous.clone();
        let _ = h.add(&self.current);
        h
    }
}

/// Percentiles of a nanosecond histogram, in microseconds.
pub(crate) fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let us = |v: u64| v as f64 / 1_000.0;
    Percentiles {
        count: h.len(),
        p50_us: us(h.value_at_quantile(0.50)),
        p90_us: us(h.value_at_quantile(0.90)),
        p99_us: us(h.value_at_quantile(0.99)),
        max_us: us(h.max()),
    }
}
