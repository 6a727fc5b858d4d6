//! Generates plausible sensor readings, with a small share out of range (sensors glitch), so a
//! visitor sees both outcomes of the pipeline.

use app::model::{Kind, SensorReading};

/// Share of generated readings that are out of range.
pub const INVALID_SHARE: f64 = 0.05;

/// `count` readings from sensors `s-1`..`s-64`, about [`INVALID_SHARE`] of them out of range.
pub fn generate(count: usize, rng: &mut fastrand::Rng) -> Vec<SensorReading> {
    (0..count).map(|_| one(rng)).collect()
}

fn one(rng: &mut fastrand::Rng) -> SensorReading {
    let kind = Kind::ALL[rng.usize(..Kind::ALL.len())];
    let range = kind.valid_range();
    let (lo, hi) = (*range.start(), *range.end());
    let value = if rng.f64() < INVALID_SHARE {
        // Just outside the range, on either side.
        if rng.bool() { hi + 1.0 + rng.f64() * 50.0 } else { lo - 1.0 - rng.f64() * 50.0 }
    } else {
        // Typical values sit in the middle of the range.
        let mid = (lo + hi) / 2.0;
        mid + (rng.f64() - 0.5) * (hi - lo) * 0.5
    };
    SensorReading {
        sensor: format!("s-{}", rng.u32(1..=64)),
        kind,
        value: (value * 10.0).round() / 10.0,
        at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_five_percent_invalid_and_all_well_formed() {
        let mut rng = fastrand::Rng::with_seed(7);
        let readings = generate(10_000, &mut rng);
        assert_eq!(readings.len(), 10_000);
        assert!(readings.iter().all(|r| r.check_shape().is_ok()));
        let invalid = readings.iter().filter(|r| r.validate().is_err()).count();
        assert!((350..=650).contains(&invalid), "{invalid} invalid of 10,000");
    }
}
