//! A test aid (`--record-acks FILE`): every event this node's pipeline acknowledged, one line
//! each, `<event id> <sensor> <ok|failed>`, written (unbuffered by the process: each ack call
//! is one `write`) so that a SIGKILL loses nothing already acknowledged. With every node's file
//! a test counts, per event, how often it was processed: at least once each, and duplicates
//! exactly, not estimated.

use super::codec::EVENT_ID;
use crate::pipeline::{Acknowledger, Message};
use app::model::SensorReading;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Appends acknowledged events to a file.
pub struct AckRecorder {
    file: Mutex<File>,
}

impl AckRecorder {
    /// Appends to `path` (created if missing).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self { file: Mutex::new(OpenOptions::new().create(true).append(true).open(path)?) })
    }
}

impl Acknowledger<SensorReading> for AckRecorder {
    fn ack(&self, successful: &[Message<SensorReading>], failed: &[Message<SensorReading>]) {
        let mut lines = String::new();
        for (m, outcome) in successful.iter().map(|m| (m, "ok")).chain(failed.iter().map(|m| (m, "failed"))) {
            let id = m.metadata.get(EVENT_ID).unwrap_or("-");
            lines.push_str(&format!("{id} {} {outcome}\n", m.data.sensor));
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(lines.as_bytes()) {
            tracing::warn!("--record-acks: cannot write: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Kind;
    use std::time::Instant;

    #[test]
    fn every_acknowledged_event_is_one_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("acks");
        let recorder = AckRecorder::open(&path).expect("opens");
        let reading =
            |s: &str| SensorReading { sensor: s.into(), kind: Kind::Humidity, value: 1.0, at: None };
        let mut ok = Message::new(reading("s-1"), Instant::now());
        ok.metadata.insert(EVENT_ID, "5-0/0");
        let bad = Message::new(reading("s-2"), Instant::now()).failed("bad", "too hot");
        recorder.ack(&[ok], &[bad]);
        assert_eq!(std::fs::read_to_string(&path).expect("written"), "5-0/0 s-1 ok\n- s-2 failed\n");
    }
}
