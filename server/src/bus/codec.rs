//! An entry of the events stream is one publish batch: fields `n` (how many events), `o` (the
//! node that published it) and `d` (the events, postcard: ~20 bytes a reading instead of ~60 as
//! JSON). Each event's cluster-wide id is `<entry id>/<index>`, kept in its message's metadata.

use super::BusError;
use app::model::{Kind, SensorReading};
use redis::streams::StreamId;

pub(crate) use crate::pipeline::EVENT_ID;
/// Metadata key of how often the event's entry was delivered, when more than once.
pub(crate) const DELIVERIES: &str = "deliveries";

/// A stream entry's id, e.g. `1764625000000-0`.
pub type EntryId = String;

/// Event `index` of entry `entry`: its id across the cluster.
pub fn event_id(entry: &str, index: usize) -> String {
    format!("{entry}/{index}")
}

/// The entry an event id belongs to.
pub(crate) fn entry_of(event: &str) -> Option<&str> {
    event.rsplit_once('/').map(|(entry, _)| entry)
}

/// One entry as read back: what the producer turns into messages.
#[derive(Debug, PartialEq)]
pub(crate) struct Entry {
    pub id: EntryId,
    /// The node that published it.
    pub origin: String,
    pub readings: Vec<SensorReading>,
    /// Times Redis delivered it, this delivery included (1 for a first read).
    pub deliveries: u64,
}

/// One reading on the wire, as a tuple: postcard is not self-describing, so the reading's own
/// serde shape (which skips an absent `at`, for JSON) cannot be decoded back from it.
pub(crate) type Wire = (String, Kind, f64, Option<u64>);

/// Readings as wire tuples (borrowed).
pub(crate) fn to_wire(readings: &[SensorReading]) -> Vec<(&str, Kind, f64, Option<u64>)> {
    readings.iter().map(|r| (r.sensor.as_str(), r.kind, r.value, r.at)).collect()
}

/// Wire tuples back to readings.
pub(crate) fn from_wire(wire: Vec<Wire>) -> Vec<SensorReading> {
    wire.into_iter().map(|(sensor, kind, value, at)| SensorReading { sensor, kind, value, at }).collect()
}

/// The events of one new entry (its `n` field) and their data (its `d` field).
pub(crate) fn encode(readings: &[SensorReading]) -> Result<(usize, Vec<u8>), BusError> {
    let data = postcard::to_allocvec(&to_wire(readings))
        .map_err(|e| BusError::Corrupt { id: "(new)".into(), why: format!("cannot encode: {e}") })?;
    Ok((readings.len(), data))
}

/// A publish batch as entries of at most `entry_max` events, each encoded.
pub(crate) fn encode_entries(
    readings: &[SensorReading],
    entry_max: usize,
) -> Result<Vec<(usize, Vec<u8>)>, BusError> {
    readings.chunks(entry_max.max(1)).map(encode).collect()
}

/// Reads an entry's fields back; `deliveries` as known to the caller.
pub(crate) fn decode(raw: &StreamId, deliveries: u64) -> Result<Entry, BusError> {
    let corrupt = |why: &str| BusError::Corrupt { id: raw.id.clone(), why: why.into() };
    let n: usize = raw.get("n").ok_or_else(|| corrupt("no field n"))?;
    let origin: String = raw.get("o").ok_or_else(|| corrupt("no field o"))?;
    let data: Vec<u8> = raw.get("d").ok_or_else(|| corrupt("no field d"))?;
    let wire: Vec<Wire> =
        postcard::from_bytes(&data).map_err(|e| corrupt(&format!("events do not decode: {e}")))?;
    let readings = from_wire(wire);
    if readings.len() != n {
        return Err(corrupt(&format!("n says {n} events, d holds {}", readings.len())));
    }
    Ok(Entry { id: raw.id.clone(), origin, readings, deliveries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::Value;
    use std::collections::HashMap;

    fn readings(n: usize) -> Vec<SensorReading> {
        (0..n)
            .map(|i| SensorReading {
                sensor: format!("s-{i}"),
                kind: [Kind::Humidity, Kind::Pressure][i % 2],
                value: i as f64 + 0.5,
                // Both shapes: JSON skips an absent `at`, the wire must not.
                at: (i % 3 == 0).then_some(1_764_625_000_000 + i as u64),
            })
            .collect()
    }

    /// An entry as `XREADGROUP` hands it back, from what the publish script was given.
    fn as_read(id: &str, origin: &str, (n, data): &(usize, Vec<u8>)) -> StreamId {
        let fields =
            [("n", n.to_string().into_bytes()), ("o", origin.as_bytes().to_vec()), ("d", data.clone())];
        let map: HashMap<String, Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), Value::BulkString(v))).collect();
        StreamId { id: id.into(), map, ..Default::default() }
    }

    #[test]
    fn an_entry_round_trips() {
        let entry = encode(&readings(3)).expect("encodes");
        let back = decode(&as_read("5-0", "node-a", &entry), 2).expect("decodes");
        assert_eq!(
            back,
            Entry { id: "5-0".into(), origin: "node-a".into(), readings: readings(3), deliveries: 2 }
        );
    }

    #[test]
    fn a_big_batch_becomes_entries_of_at_most_entry_max_in_order() {
        let entries = encode_entries(&readings(7), 3).expect("encodes");
        assert_eq!(entries.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [3, 3, 1]);
        let back: Vec<SensorReading> = entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| decode(&as_read(&format!("{i}-0"), "a", e), 1).expect("decodes").readings)
            .collect();
        assert_eq!(back, readings(7));
        assert_eq!(encode_entries(&readings(2), 0).expect("encodes").len(), 2, "0 means 1");
    }

    #[test]
    fn events_are_compact() {
        let (_, data) = encode(&readings(100)).expect("encodes");
        let json = serde_json::to_vec(&readings(100)).expect("json");
        assert!(data.len() * 2 < json.len(), "postcard {} vs JSON {}", data.len(), json.len());
    }

    #[test]
    fn a_damaged_entry_is_refused_with_its_id() {
        let (_, data) = encode(&readings(2)).expect("encodes");
        let e = decode(&as_read("9-1", "a", &(3, data.clone())), 1).expect_err("n disagrees");
        assert!(e.to_string().starts_with("entry 9-1: n says 3"), "{e}");
        assert!(decode(&as_read("9-1", "a", &(2, vec![0xff; 3])), 1).is_err());
        let mut no_data = as_read("9-1", "a", &(2, data));
        no_data.map.remove("d");
        assert!(decode(&no_data, 1).is_err());
    }

    #[test]
    fn event_ids_name_their_entry() {
        let id = event_id("1764625000000-3", 41);
        assert_eq!(id, "1764625000000-3/41");
        assert_eq!(entry_of(&id), Some("1764625000000-3"));
        assert_eq!(entry_of("nothing"), None);
    }
}
