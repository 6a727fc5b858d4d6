//! The simulated publisher: start it at a rate with a share of invalid readings (failure
//! injection), or stop it.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::{SIMULATOR_MAX_RATE, SIMULATOR_MIN_RATE};
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;

/// Starts (or re-tunes) the simulated publisher: `rate_per_s` readings a second
/// (10..=2,000,000), `invalid_pct` % of them out of range (0..=100).
#[server(prefix = "/rpc", endpoint = "start_simulator", output = Postcard)]
pub async fn start_simulator(rate_per_s: u32, invalid_pct: u8) -> Result<(), AppError> {
    super::answer(async move {
        if !(SIMULATOR_MIN_RATE..=SIMULATOR_MAX_RATE).contains(&rate_per_s) {
            return Err(AppError::InvalidArgument(format!(
                "rate must be between {SIMULATOR_MIN_RATE} and {SIMULATOR_MAX_RATE} readings per second, got {rate_per_s}"
            )));
        }
        if invalid_pct > 100 {
            return Err(AppError::InvalidArgument(format!(
                "invalid share must be between 0 and 100 %, got {invalid_pct}"
            )));
        }
        super::backend()?.start_simulator(rate_per_s, invalid_pct)
    }.await)
}

/// Stops the simulated publisher (nothing happens if it is not running).
#[server(prefix = "/rpc", endpoint = "stop_simulator", output = Postcard)]
pub async fn stop_simulator() -> Result<(), AppError> {
    super::answer(
        async move {
            super::backend()?.stop_simulator();
            Ok(())
        }
        .await,
    )
}
