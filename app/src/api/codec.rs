//! The JSON codec every server function answers with: [`JsonText`].
//!
//! Leptos' default output codec decodes with `serde_json::from_slice`, while a `Resource`
//! hydrating the server's first paint, and the WebSocket, decode with `serde_json::from_str`.
//! serde monomorphises every `Deserialize` impl once per reader, so a type read both ways (the
//! stats snapshot: first paint, `get_stats`, `/ws`) had its whole deserializer in the browser's
//! WASM twice. This codec decodes with `from_str` too: one copy. The wire format is unchanged
//! (`application/json`).

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::{DeserializeOwned, Error as _};

/// JSON read with `serde_json::from_str`, the reader resources and the stream use.
pub struct JsonTextEncoding;

/// A server function's output as JSON in the body of a `POST` response, decoded as text:
/// `#[server(..., output = JsonText)]`.
pub type JsonText = Post<JsonTextEncoding>;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde_json::Error::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StatsSnapshot;

    #[test]
    fn round_trips_and_reports_bad_input() {
        let snapshot = StatsSnapshot { published: 7, ..StatsSnapshot::default() };
        let bytes = JsonTextEncoding::encode(&snapshot).expect("encodes");
        let back: StatsSnapshot = JsonTextEncoding::decode(bytes).expect("decodes");
        assert_eq!(back, snapshot);
        assert!(<JsonTextEncoding as Decodes<StatsSnapshot>>::decode(Bytes::from_static(b"\xff")).is_err());
    }
}
