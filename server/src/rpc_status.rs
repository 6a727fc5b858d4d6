//! HTTP statuses for refused server-function calls. `server_fn` answers every error with 500
//! and the JSON [`AppError`]; this layer reads that error and gives the status it means: a bad
//! argument (or arguments that do not decode) is the caller's, 400; a server that cannot take
//! the work now is 503. The body, the readable JSON message, is unchanged.

use app::error::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::ServerFnErrorErr;

/// Largest error body read back; an error message is far smaller.
const ERROR_BODY_MAX: usize = 64 * 1024;

/// The middleware: only `/rpc/…` answers with 500 are looked at.
pub async fn refine(req: Request, next: Next) -> Response {
    let rpc = req.uri().path().starts_with("/rpc/");
    let res = next.run(req).await;
    if !rpc || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, ERROR_BODY_MAX).await else {
        return Response::from_parts(parts, Body::from("server function error too large to report"));
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_of(&error);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// What an error means in HTTP.
pub fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::ServerFn(ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_)) => {
            StatusCode::BAD_REQUEST
        }
        AppError::ServerFn(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_whose_fault_it_is() {
        assert_eq!(status_of(&AppError::InvalidArgument("x".into())), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(&AppError::Unavailable("x".into())), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            status_of(&AppError::ServerFn(ServerFnErrorErr::Args("x".into()))),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status_of(&AppError::ServerFn(ServerFnErrorErr::ServerError("x".into()))),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
