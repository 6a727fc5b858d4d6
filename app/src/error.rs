//! The error every server function returns, shared by server and browser so the UI can show
//! exactly what went wrong. It travels as postcard, like every server-function answer (see
//! `api`), and carries the HTTP status it means ([`AppError::status`]).

use leptos::server_fn::codec::PostcardEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function call failed, in words a visitor can read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The caller sent a value outside what the function accepts.
    #[error("{0}")]
    InvalidArgument(String),
    /// The server cannot take the work now (shutting down, pipeline full).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The server's guard refused the call before it ran (the status it answered, why): a
    /// destructive control without the operator's rights, a publish without the ingest token.
    #[error("{1}")]
    Refused(u16, String),
    /// Transport or encoding trouble between browser and server.
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = PostcardEncoding;

    /// Also where server_fn reports arguments that do not decode, on the server, before the
    /// function's body runs: the status is set here, where that error is made.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let e = AppError::ServerFn(value);
        #[cfg(feature = "ssr")]
        e.set_status();
        e
    }
}

impl AppError {
    /// The HTTP status this error answers with: the caller's fault is 400, a server that
    /// cannot take the work now 503, anything else 500.
    pub fn status(&self) -> u16 {
        match self {
            AppError::InvalidArgument(_) => 400,
            AppError::Unavailable(_) => 503,
            AppError::Refused(status, _) => *status,
            AppError::ServerFn(
                ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::MissingArg(_)
                | ServerFnErrorErr::Deserialization(_),
            ) => 400,
            AppError::ServerFn(_) => 500,
        }
    }

    /// Sets [`AppError::status`] on the response being made (leptos_axum's `ResponseOptions`,
    /// which it applies to a server function's answer, error or not). Outside a request, a
    /// no-op.
    #[cfg(feature = "ssr")]
    pub fn set_status(&self) {
        if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            let status =
                http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            options.set_status(status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::{Decodes, Encodes};

    #[test]
    fn every_error_round_trips_and_has_its_status() {
        let message = "bad \"value\" \\ é\n😀".to_string();
        for (e, status) in [
            (AppError::InvalidArgument(message.clone()), 400),
            (AppError::Unavailable(message.clone()), 503),
            (AppError::Refused(401, message.clone()), 401),
            (AppError::ServerFn(ServerFnErrorErr::Args(message.clone())), 400),
            (AppError::ServerFn(ServerFnErrorErr::MissingArg(message.clone())), 400),
            (AppError::ServerFn(ServerFnErrorErr::Deserialization(message.clone())), 400),
            (AppError::ServerFn(ServerFnErrorErr::ServerError(message.clone())), 500),
            (AppError::ServerFn(ServerFnErrorErr::Request(message.clone())), 500),
        ] {
            let bytes = PostcardEncoding::encode(&e).expect("encodes");
            assert_eq!(<PostcardEncoding as Decodes<AppError>>::decode(bytes).expect("decodes"), e);
            assert_eq!(e.status(), status, "{e:?}");
        }
    }

    #[test]
    fn garbage_is_not_an_error_the_server_wrote() {
        for bad in [&b""[..], b"\xff\xff\xff", b"\x09"] {
            assert!(<PostcardEncoding as Decodes<AppError>>::decode(bad.to_vec().into()).is_err(), "{bad:?}");
        }
    }
}
