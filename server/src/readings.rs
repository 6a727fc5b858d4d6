//! Pulse's own pipeline work on sensor readings: validate the range, stamp the time, and fold
//! each batch into the per-kind aggregates.

use crate::pipeline::{BatchInfo, Handler, Message};
use crate::telemetry::Aggregates;
use app::model::SensorReading;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A reading from this sensor makes `handle_message` panic: the demo's "crash a processor"
/// (the panic fails that message with its reason, is retried by the retry policy, and the
/// processor keeps going).
pub(crate) const CRASH_SENSOR: &str = "crash";

/// The handler the server's pipeline runs.
pub(crate) struct ReadingsHandler {
    aggregates: Arc<Aggregates>,
}

impl ReadingsHandler {
    pub(crate) fn new(aggregates: Arc<Aggregates>) -> Self {
        Self { aggregates }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Handler for ReadingsHandler {
    type Data = SensorReading;

    /// Fails readings outside their kind's range for good (retrying cannot fix a value; the
    /// reason names kind, value and range);
    /// stamps `at` with the processing time when the sensor sent none.
    fn handle_message(&self, message: &mut Message<SensorReading>) {
        if message.data.sensor == CRASH_SENSOR {
            panic!("simulated crash handling a reading from sensor {CRASH_SENSOR:?}");
        }
        if let Err(e) = message.data.validate() {
            message.fail_permanently(SensorReading::failure_category(&e), e.to_string());
            return;
        }
        if message.data.at.is_none() {
            message.data.at = Some(unix_ms());
        }
    }

    fn handle_batch(&self, batch: &mut [Message<SensorReading>], _info: &BatchInfo<'_>) {
        self.aggregates.record(batch.iter().map(|m| &m.data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{BatchTrigger, Failure, Status};
    use app::model::Kind;
    use std::time::Instant;

    fn message(kind: Kind, value: f64) -> Message<SensorReading> {
        Message::new(SensorReading { sensor: "s-1".into(), kind, value, at: None }, Instant::now())
    }

    #[test]
    fn valid_readings_pass_and_get_a_time() {
        let h = ReadingsHandler::new(Arc::default());
        let mut m = message(Kind::Temperature, 21.5);
        h.handle_message(&mut m);
        assert!(m.is_ok());
        assert!(m.data.at.is_some_and(|t| t > 1_600_000_000_000));
    }

    #[test]
    fn out_of_range_fails_with_its_reason() {
        let h = ReadingsHandler::new(Arc::default());
        let mut m = message(Kind::Pressure, 700.0);
        h.handle_message(&mut m);
        assert_eq!(
            m.status,
            Status::Failed(Box::new(Failure {
                kind: "pressure out of range",
                reason: "pressure 700 out of range 800..=1100 hPa".into(),
                permanent: true,
            }))
        );
    }

    #[test]
    fn batches_feed_the_aggregates() {
        let agg = Arc::new(Aggregates::default());
        let h = ReadingsHandler::new(agg.clone());
        let info =
            BatchInfo { batcher: "default", batch_key: "default", size: 2, trigger: BatchTrigger::Size };
        h.handle_batch(&mut [message(Kind::Humidity, 40.0), message(Kind::Humidity, 60.0)], &info);
        assert_eq!(agg.snapshot()[0].mean, 50.0);
    }
}
