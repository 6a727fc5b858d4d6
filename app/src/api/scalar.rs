//! [`JsonScalar`]: the output codec of the server functions the live page's buttons call, and a
//! small reader for the JSON those answers (and their errors, see `crate::error`) are made of.
//!
//! Why: those functions answer a count (`u64`, `u32`) or nothing (`null`), and fail with an
//! [`AppError`](crate::error::AppError) — a one-key object holding a string. Reading that needs
//! a few dozen lines, where `serde_json`'s reader (and serde's derived decoders for the error
//! and `ServerFnErrorErr`) was ~8 KB of the gzipped WASM every visitor of the live page
//! downloads. The wire format is JSON, unchanged: the server writes it with `serde_json`, and
//! any other client reads it as JSON.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;

/// A scalar answer as JSON in the body of a `POST` response: `#[server(..., output = JsonScalar)]`.
pub type JsonScalar = Post<JsonScalarEncoding>;

/// See the module documentation.
pub struct JsonScalarEncoding;

impl ContentType for JsonScalarEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonScalarEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize + Scalar> Encodes<T> for JsonScalarEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: Scalar> Decodes<T> for JsonScalarEncoding {
    type Error = JsonError;

    fn decode(bytes: Bytes) -> Result<T, JsonError> {
        let text = std::str::from_utf8(&bytes).map_err(|_| JsonError("not UTF-8"))?;
        T::from_json(text.trim()).ok_or(JsonError("not the expected JSON value"))
    }
}

/// Why an answer could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unexpected answer: {0}")]
pub struct JsonError(pub &'static str);

/// A value [`JsonScalar`] can read back: a whole number, or nothing.
pub trait Scalar: Sized {
    fn from_json(text: &str) -> Option<Self>;
}

impl Scalar for () {
    fn from_json(text: &str) -> Option<()> {
        (text == "null").then_some(())
    }
}

impl Scalar for u64 {
    fn from_json(text: &str) -> Option<u64> {
        // `parse` alone would take "+1"; JSON numbers have no sign but '-'.
        text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok()).flatten()
    }
}

impl Scalar for u32 {
    fn from_json(text: &str) -> Option<u32> {
        u64::from_json(text).and_then(|n| n.try_into().ok())
    }
}

/// Reads a one-key JSON object, `{"key": value}`: the key and the value's text.
pub fn single_entry(text: &str) -> Option<(String, &str)> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?.trim_start();
    let (key, rest) = string(inner)?;
    let value = rest.trim_start().strip_prefix(':')?.trim();
    Some((key, value))
}

/// Reads one JSON string at the start of `text`: its value and what follows it.
pub fn string(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut chars = body.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    '"' | '\\' | '/' => e,
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'u' => {
                        let first = hex4(&mut chars)?;
                        let code = if (0xd800..0xdc00).contains(&first) {
                            // A surrogate pair: `\ud83d\ude00`.
                            let (_, '\\') = chars.next()? else { return None };
                            let (_, 'u') = chars.next()? else { return None };
                            let low = hex4(&mut chars).filter(|low| (0xdc00..0xe000).contains(low))?;
                            0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00)
                        } else {
                            first
                        };
                        char::from_u32(code)?
                    }
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// Four hex digits of a `\u` escape.
fn hex4(chars: &mut std::str::CharIndices<'_>) -> Option<u32> {
    let hex: String = (0..4).map(|_| chars.next().map(|(_, h)| h)).collect::<Option<_>>()?;
    u32::from_str_radix(&hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_what_serde_json_writes() {
        for n in [0u64, 7, u64::MAX] {
            let json = serde_json::to_string(&n).expect("json");
            assert_eq!(u64::from_json(&json), Some(n));
        }
        assert_eq!(u32::from_json(&serde_json::to_string(&42u32).expect("json")), Some(42));
        assert_eq!(<()>::from_json(&serde_json::to_string(&()).expect("json")), Some(()));
        assert_eq!(u32::from_json("4294967296"), None, "out of range");
        for bad in ["", "-1", "+1", "1.5", "\"1\"", "null"] {
            assert_eq!(u64::from_json(bad), None, "{bad:?}");
        }
        assert_eq!(<()>::from_json("0"), None);
    }

    #[test]
    fn strings_unescape_like_json() {
        for s in ["plain", "quote \" and \\ back", "tab\tnew\nline", "ctrl \u{1} é ✓ 😀", ""] {
            let json = serde_json::to_string(s).expect("json");
            assert_eq!(string(&json), Some((s.to_string(), "")), "{json}");
        }
        assert_eq!(string(r#""\ud83d\ude00" rest"#), Some(("😀".into(), " rest")));
        assert_eq!(string(r#""\u00e9\/""#), Some(("é/".into(), "")));
        for bad in [r#""unterminated"#, r#""bad \q escape""#, r#""\ud83d alone""#, "no quote", r#""\u12""#] {
            assert_eq!(string(bad), None, "{bad}");
        }
    }

    #[test]
    fn one_key_objects() {
        assert_eq!(single_entry(r#"{"Unavailable":"down"}"#), Some(("Unavailable".into(), r#""down""#)));
        assert_eq!(single_entry(r#" { "a" : {"b":"c"} } "#), Some(("a".into(), r#"{"b":"c"}"#)));
        assert_eq!(single_entry(r#"["a"]"#), None);
        assert_eq!(single_entry("{}"), None);
    }

    #[test]
    fn codec_round_trips_and_refuses_other_json() {
        let bytes = JsonScalarEncoding::encode(&12_345u64).expect("encodes");
        assert_eq!(&bytes[..], b"12345", "plain JSON on the wire");
        assert_eq!(<JsonScalarEncoding as Decodes<u64>>::decode(bytes), Ok(12_345));
        assert!(<JsonScalarEncoding as Decodes<()>>::decode(Bytes::from_static(b"{}")).is_err());
        assert!(<JsonScalarEncoding as Decodes<u64>>::decode(Bytes::from_static(b"\xff")).is_err());
    }
}
