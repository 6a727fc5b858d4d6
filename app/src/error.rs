//! The error every server function returns, shared by server and browser so the UI can show
//! exactly what went wrong.

use crate::api::scalar::{JsonError, single_entry, string};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{Deserialize, Serialize};

/// Why a server function call failed, in words a visitor can read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The caller sent a value outside what the function accepts.
    #[error("{0}")]
    InvalidArgument(String),
    /// The server cannot take the work now (shutting down, pipeline stopped).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Transport or encoding trouble between browser and server.
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = AppErrorEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}

/// How an [`AppError`] travels: serde's JSON for an enum (`{"InvalidArgument":"…"}`,
/// `{"ServerFn":{"Args":"…"}}`), written by `serde_json` on the server and read back by hand in
/// the browser (see `api::scalar` for why), so the live page carries no JSON decoder at all.
pub struct AppErrorEncoding;

impl ContentType for AppErrorEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for AppErrorEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl Encodes<AppError> for AppErrorEncoding {
    type Error = serde_json::Error;

    fn encode(error: &AppError) -> Result<Bytes, serde_json::Error> {
        serde_json::to_vec(error).map(Bytes::from)
    }
}

impl Decodes<AppError> for AppErrorEncoding {
    type Error = JsonError;

    fn decode(bytes: Bytes) -> Result<AppError, JsonError> {
        let text = std::str::from_utf8(&bytes).map_err(|_| JsonError("not UTF-8"))?;
        AppError::from_json(text).ok_or(JsonError("not an error the server writes"))
    }
}

impl AppError {
    /// Reads what `serde_json` writes for an `AppError`.
    fn from_json(text: &str) -> Option<AppError> {
        let (variant, value) = single_entry(text)?;
        let message = || string(value).filter(|(_, rest)| rest.trim().is_empty()).map(|(s, _)| s);
        Some(match variant.as_str() {
            "InvalidArgument" => AppError::InvalidArgument(message()?),
            "Unavailable" => AppError::Unavailable(message()?),
            "ServerFn" => {
                let (kind, value) = single_entry(value)?;
                let (m, rest) = string(value)?;
                if !rest.trim().is_empty() {
                    return None;
                }
                AppError::ServerFn(match kind.as_str() {
                    "Registration" => ServerFnErrorErr::Registration(m),
                    "UnsupportedRequestMethod" => ServerFnErrorErr::UnsupportedRequestMethod(m),
                    "Request" => ServerFnErrorErr::Request(m),
                    "ServerError" => ServerFnErrorErr::ServerError(m),
                    "MiddlewareError" => ServerFnErrorErr::MiddlewareError(m),
                    "Deserialization" => ServerFnErrorErr::Deserialization(m),
                    "Serialization" => ServerFnErrorErr::Serialization(m),
                    "Args" => ServerFnErrorErr::Args(m),
                    "MissingArg" => ServerFnErrorErr::MissingArg(m),
                    "Response" => ServerFnErrorErr::Response(m),
                    _ => return None,
                })
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_reads_back_what_serde_json_writes() {
        let message = "bad \"value\" \\ é\n😀".to_string();
        let errors = [
            AppError::InvalidArgument(message.clone()),
            AppError::Unavailable(message.clone()),
            AppError::ServerFn(ServerFnErrorErr::Registration(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::UnsupportedRequestMethod(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::Request(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::ServerError(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::MiddlewareError(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::Deserialization(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::Serialization(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::Args(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::MissingArg(message.clone())),
            AppError::ServerFn(ServerFnErrorErr::Response(message)),
        ];
        for e in errors {
            let bytes = AppErrorEncoding::encode(&e).expect("encodes");
            assert_eq!(AppErrorEncoding::decode(bytes.clone()), Ok(e.clone()), "{bytes:?}");
            let back: AppError = serde_json::from_slice(&bytes).expect("plain JSON for other clients");
            assert_eq!(back, e);
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "null",
            r#"{"Nope":"x"}"#,
            r#"{"InvalidArgument":1}"#,
            r#"{"InvalidArgument":"x" "y"}"#,
            r#"{"ServerFn":{"Nope":"x"}}"#,
            r#"{"ServerFn":"Args"}"#,
        ] {
            assert!(AppErrorEncoding::decode(Bytes::from(bad)).is_err(), "{bad}");
        }
    }
}
