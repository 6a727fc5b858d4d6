//! Generates plausible sensor readings, with a small share out of range (sensors glitch), so a
//! visitor sees both outcomes of the pipeline.

use app::model::{Kind, SensorReading};

/// Share of generated readings that are out of range.
pub(super) const INVALID_SHARE: f64 = 0.05;

/// `count` readings from sensors `s-1`..`s-64`, about [`INVALID_SHARE`] of them out of range.
pub(crate) fn generate(count: usize, rng: &mut fastrand::Rng) -> Vec<SensorReading> {
    generate_with(count, INVALID_SHARE, rng)
}

/// `count` readings, about `invalid_share` (0.0..=1.0) of them out of range (failure
/// injection).
pub(crate) fn generate_with(count: usize, invalid_share: f64, rng: &mut fastrand::Rng) -> Vec<SensorReading> {
    (0..count).map(|_| one(rng, invalid_share)).collect()
}

fn one(rng: &mut fastrand::Rng, invalid_share: f64) -> SensorReading {
    let kind = Kind::ALL[rng.usize(..Kind::ALL.len())];
    let range = kind.valid_range();
    let (lo, hi) = (*range.start(), *range.end());
    let value = if rng.f64() < invalid_share {
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

    #[test]
    fn the_invalid_share_is_what_was_asked() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut invalid =
            |share| generate_with(10_000, share, &mut rng).iter().filter(|r| r.validate().is_err()).count();
        assert_eq!(invalid(0.0), 0);
        assert!((4_700..=5_300).contains(&invalid(0.5)));
        assert_eq!(invalid(1.0), 10_000);
    }
}
