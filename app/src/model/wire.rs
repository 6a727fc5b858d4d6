//! The live stream's encoding: postcard, a compact binary serde format, for the frames `/ws`
//! sends and for the first frame a page is rendered with.
//!
//! Why not JSON like the rest of the API: a frame is made ten times a second for every page,
//! and decoding it is most of what the live page's WASM does. Postcard writes no field names
//! (a delta frame is ~4× smaller than its JSON) and its decoder is a fraction of the size of
//! serde_json's per-type decoders (measured: −20 KB of the gzipped WASM). The price is that
//! the stream is only readable with the model's types ([`decode`]); `get_live` serves the same
//! frame as JSON for anything else. Frames must therefore not use serde attributes that skip
//! fields (`skip_serializing_if`): postcard fields are positional.

use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes a frame (or any stream value) for the wire.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_allocvec(value)
}

/// Decodes what [`encode`] wrote.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// The same encoding for a `SharedValue` (the first paint's frame), carried in the page as hex:
/// a hex decoder is a few lines, where Leptos' own byte codec would bring a base64 engine and
/// its tables into the WASM. The page is served compressed, which takes back hex's extra length.
pub struct Postcard;

impl<T: Serialize> Encoder<T> for Postcard {
    type Error = postcard::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, postcard::Error> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let bytes = encode(value)?;
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            hex.push(char::from(DIGITS[usize::from(b >> 4)]));
            hex.push(char::from(DIGITS[usize::from(b & 0xf)]));
        }
        Ok(hex)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Postcard {
    type Error = postcard::Error;
    type Encoded = str;

    fn decode(hex: &str) -> Result<T, postcard::Error> {
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(postcard::Error::DeserializeBadEncoding),
        };
        let hex = hex.as_bytes();
        if !hex.len().is_multiple_of(2) {
            return Err(postcard::Error::DeserializeUnexpectedEnd);
        }
        let bytes =
            hex.chunks(2).map(|p| Ok(nibble(p[0])? << 4 | nibble(p[1])?)).collect::<Result<Vec<u8>, _>>()?;
        decode(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;
    use crate::model::{FeedItem, FeedStatus, Kind, LiveFrame, StatsSnapshot};

    #[test]
    fn frames_round_trip_and_are_smaller_than_json() {
        let frame = LiveFrame {
            seq: 42,
            at_unix_ms: 1_764_000_000_000,
            stats: StatsSnapshot { published: 1_000_000, processed: 999_000, ..Default::default() },
            feed: vec![FeedItem {
                id: 7,
                at_ms: 1_764_000_000_000,
                sensor: "s-17".into(),
                kind: Kind::Temperature,
                value: 180.5,
                status: FeedStatus::Failed,
                reason: Some("temperature 180.5 out of range".into()),
                attempts: 1,
            }],
            ..Default::default()
        };
        let bytes = encode(&frame).expect("encodes");
        assert_eq!(decode::<LiveFrame>(&bytes).expect("decodes"), frame);
        let json = serde_json::to_vec(&frame).expect("json");
        assert!(bytes.len() * 3 < json.len(), "{} B against {} B of JSON", bytes.len(), json.len());
    }

    #[test]
    fn the_first_paints_result_round_trips_and_garbage_is_an_error() {
        let err: Result<LiveFrame, AppError> = Err(AppError::Unavailable("down".into()));
        let bytes = <Postcard as Encoder<_>>::encode(&err).expect("encodes");
        let back: Result<LiveFrame, AppError> = <Postcard as Decoder<_>>::decode(&bytes).expect("decodes");
        assert_eq!(back, err);
        assert!(bytes.bytes().all(|b| b.is_ascii_hexdigit()), "{bytes}");
        assert!(decode::<LiveFrame>(&[0xff, 0xff, 0xff]).is_err());
        assert!(<Postcard as Decoder<LiveFrame>>::decode(&bytes[..bytes.len() - 1]).is_err(), "odd length");
        assert!(<Postcard as Decoder<LiveFrame>>::decode("zz").is_err(), "not hex");
        assert!(<Postcard as Decoder<LiveFrame>>::decode("").is_err(), "empty");
    }
}
