//! Per-kind running aggregates of processed readings, updated once per batch.

use app::model::{Kind, KindAggregate, SensorReading};
use std::sync::Mutex;

#[derive(Clone, Copy, Default)]
struct Running {
    count: u64,
    min: f64,
    max: f64,
    sum: f64,
    last: f64,
}

/// Count, min, max, mean and last value per kind.
#[derive(Default)]
pub(crate) struct Aggregates {
    by_kind: Mutex<[Running; 3]>,
}

impl Aggregates {
    /// Folds a batch of readings in, under one lock.
    pub(crate) fn record<'a>(&self, readings: impl IntoIterator<Item = &'a SensorReading>) {
        let mut by_kind = self.by_kind.lock().unwrap_or_else(|e| e.into_inner());
        for r in readings {
            let a = &mut by_kind[r.kind.index()];
            if a.count == 0 {
                a.min = r.value;
                a.max = r.value;
            } else {
                a.min = a.min.min(r.value);
                a.max = a.max.max(r.value);
            }
            a.count += 1;
            a.sum += r.value;
            a.last = r.value;
        }
    }

    /// The kinds seen so far, in [`Kind::ALL`] order.
    pub(crate) fn snapshot(&self) -> Vec<KindAggregate> {
        let by_kind = *self.by_kind.lock().unwrap_or_else(|e| e.into_inner());
        Kind::ALL
            .into_iter()
            .filter(|k| by_kind[k.index()].count > 0)
            .map(|kind| {
                let a = by_kind[kind.index()];
                KindAggregate {
                    kind,
                    count: a.count,
                    min: a.min,
                    max: a.max,
                    mean: a.sum / a.count as f64,
                    last: a.last,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_per_kind() {
        let agg = Aggregates::default();
        let r = |kind, value| SensorReading { sensor: "s".into(), kind, value, at: None };
        agg.record(&[r(Kind::Temperature, 10.0), r(Kind::Temperature, 30.0), r(Kind::Pressure, 1000.0)]);
        let snap = agg.snapshot();
        assert_eq!(snap.len(), 2);
        let t = &snap[0];
        assert_eq!(
            (t.kind, t.count, t.min, t.max, t.mean, t.last),
            (Kind::Temperature, 2, 10.0, 30.0, 20.0, 30.0)
        );
        assert_eq!(snap[1].kind, Kind::Pressure);
    }
}
