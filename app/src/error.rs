//! The error every server function returns, shared by server and browser so the UI can show
//! exactly what went wrong.

use crate::api::JsonTextEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
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
    // The codec server functions answer with: one JSON reader in the browser (see `api::codec`).
    type Encoder = JsonTextEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
