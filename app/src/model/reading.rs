//! The event Pulse ingests: one sensor reading, and the rules that make it valid.

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// What a sensor measures. The set is closed: an unknown kind is rejected at ingest (HTTP 422),
/// because the batcher aggregates per kind and the UI draws one row per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Temperature,
    Humidity,
    Pressure,
}

impl Kind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [Kind; 3] = [Kind::Temperature, Kind::Humidity, Kind::Pressure];

    /// The physically plausible range; a reading outside it fails in the pipeline. Out-of-range
    /// values are accepted at ingest on purpose: they are the demo's error rate.
    pub fn valid_range(self) -> RangeInclusive<f64> {
        match self {
            Kind::Temperature => -50.0..=150.0,
            Kind::Humidity => 0.0..=100.0,
            Kind::Pressure => 800.0..=1100.0,
        }
    }

    /// The unit the value is expressed in, added to each processed reading.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Temperature => "°C",
            Kind::Humidity => "%",
            Kind::Pressure => "hPa",
        }
    }

    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Temperature => "temperature",
            Kind::Humidity => "humidity",
            Kind::Pressure => "pressure",
        }
    }

    /// Index into per-kind arrays (`[T; 3]`), so hot paths need no map.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One reading as published: `{"sensor": "s-17", "kind": "temperature", "value": 21.5}` with an
/// optional `"at"` (unix milliseconds, when the sensor took it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    pub sensor: String,
    pub kind: Kind,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
}

/// Longest sensor name accepted at ingest: names are shown in the UI and kept in memory.
pub const MAX_SENSOR_LEN: usize = 64;

/// Why a reading is not acceptable. `Shape` errors are rejected at ingest (HTTP 422);
/// `OutOfRange` fails the message inside the pipeline with this text as its reason.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ReadingError {
    #[error("sensor: must not be empty")]
    EmptySensor,
    #[error("sensor: longer than {MAX_SENSOR_LEN} characters")]
    SensorTooLong,
    #[error("value: must be a finite number")]
    NotFinite,
    #[error("{kind} {value} out of range {min}..={max} {unit}", kind = .kind.as_str(), unit = .kind.unit())]
    OutOfRange { kind: Kind, value: f64, min: f64, max: f64 },
}

impl SensorReading {
    /// Checks what ingest rejects outright: a reading that could never be processed.
    pub fn check_shape(&self) -> Result<(), ReadingError> {
        if self.sensor.trim().is_empty() {
            return Err(ReadingError::EmptySensor);
        }
        if self.sensor.chars().count() > MAX_SENSOR_LEN {
            return Err(ReadingError::SensorTooLong);
        }
        if !self.value.is_finite() {
            return Err(ReadingError::NotFinite);
        }
        Ok(())
    }

    /// Checks the value against its kind's range: the pipeline's validation step.
    pub fn validate(&self) -> Result<(), ReadingError> {
        self.check_shape()?;
        let range = self.kind.valid_range();
        if range.contains(&self.value) {
            Ok(())
        } else {
            Err(ReadingError::OutOfRange {
                kind: self.kind,
                value: self.value,
                min: *range.start(),
                max: *range.end(),
            })
        }
    }

    /// The reason category a failure is counted under (values differ, categories do not).
    pub fn failure_category(err: &ReadingError) -> &'static str {
        match err {
            ReadingError::EmptySensor => "empty sensor",
            ReadingError::SensorTooLong => "sensor name too long",
            ReadingError::NotFinite => "value not finite",
            ReadingError::OutOfRange { kind, .. } => match kind {
                Kind::Temperature => "temperature out of range",
                Kind::Humidity => "humidity out of range",
                Kind::Pressure => "pressure out of range",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(kind: Kind, value: f64) -> SensorReading {
        SensorReading { sensor: "s-1".into(), kind, value, at: None }
    }

    #[test]
    fn parses_the_documented_shape() {
        let r: SensorReading = serde_json::from_str(r#"{"sensor":"s-17","kind":"temperature","value":21.5}"#)
            .expect("valid json");
        assert_eq!(r, reading(Kind::Temperature, 21.5).with_sensor("s-17"));
        let r: SensorReading =
            serde_json::from_str(r#"{"sensor":"s","kind":"pressure","value":1000,"at":17}"#)
                .expect("valid json");
        assert_eq!(r.at, Some(17));
    }

    #[test]
    fn unknown_kind_is_a_data_error() {
        let err = serde_json::from_str::<SensorReading>(r#"{"sensor":"s","kind":"wind","value":1}"#)
            .expect_err("wind is not a kind");
        assert!(err.is_data(), "{err}");
    }

    #[test]
    fn ranges_are_inclusive_at_both_ends() {
        for kind in Kind::ALL {
            let range = kind.valid_range();
            assert!(reading(kind, *range.start()).validate().is_ok());
            assert!(reading(kind, *range.end()).validate().is_ok());
            assert!(reading(kind, range.start() - 0.1).validate().is_err());
            assert!(reading(kind, range.end() + 0.1).validate().is_err());
        }
    }

    #[test]
    fn out_of_range_reason_names_kind_value_and_range() {
        let err = reading(Kind::Humidity, 120.0).validate().expect_err("120 % is too humid");
        assert_eq!(err.to_string(), "humidity 120 out of range 0..=100 %");
        assert_eq!(SensorReading::failure_category(&err), "humidity out of range");
    }

    #[test]
    fn shape_rejects_empty_and_long_sensors() {
        assert_eq!(
            reading(Kind::Pressure, 900.0).with_sensor(" ").check_shape(),
            Err(ReadingError::EmptySensor)
        );
        let long = "x".repeat(MAX_SENSOR_LEN + 1);
        assert_eq!(
            reading(Kind::Pressure, 900.0).with_sensor(&long).check_shape(),
            Err(ReadingError::SensorTooLong)
        );
    }

    impl SensorReading {
        fn with_sensor(mut self, s: &str) -> Self {
            self.sensor = s.into();
            self
        }
    }
}
