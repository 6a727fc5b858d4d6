//! The browser's poll loop: one `poll_dashboard` call per refresh interval asking only for
//! rows and log lines newer than those held, restarted when the interval or level changes.
//! On the server it does nothing (the first paint needs no polling).

use super::state::DashState;

/// Starts polling (in the browser, once hydrated).
pub fn start(state: DashState) {
    #[cfg(feature = "hydrate")]
    client::start(state);
    #[cfg(not(feature = "hydrate"))]
    let _ = state;
}

#[cfg(feature = "hydrate")]
mod client {
    use super::DashState;
    use crate::api::poll_dashboard;
    use leptos::prelude::*;
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::Duration;

    pub fn start(state: DashState) {
        let busy = StoredValue::new(false);
        // The running interval, cleared when a new one starts and when the page goes away
        // (else it would keep polling into a disposed page after client-side navigation).
        let timer = Arc::new(Mutex::new(None::<IntervalHandle>));
        let clear = |timer: &Mutex<Option<IntervalHandle>>| {
            if let Some(handle) = timer.lock().unwrap_or_else(PoisonError::into_inner).take() {
                handle.clear();
            }
        };
        Effect::new({
            let timer = timer.clone();
            move |_| {
                clear(&timer);
                let secs = state.refresh.get();
                // A new level wants its lines at once; a new interval starts counting now.
                state.level.track();
                poll(state, busy);
                let handle =
                    set_interval_with_handle(move || poll(state, busy), Duration::from_secs(u64::from(secs)))
                        .ok();
                *timer.lock().unwrap_or_else(PoisonError::into_inner) = handle;
            }
        });
        on_cleanup(move || clear(&timer));
    }

    /// One poll, skipped while the previous one is still in flight (a slow server is not piled
    /// onto).
    fn poll(state: DashState, busy: StoredValue<bool>) {
        // `None`: the page was disposed.
        if busy.try_get_value().is_none_or(|b| b) {
            return;
        }
        busy.set_value(true);
        let since = state.rows.with_untracked(|r| r.back().map_or(0, |r| r.seq));
        let log_since = state.log_seq.get_untracked();
        let level = state.level.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = poll_dashboard(since, log_since, level.as_str().to_string()).await;
            if busy.try_get_value().is_none() {
                return; // the page went away while the poll was in flight
            }
            match answer {
                Ok(update) => state.apply(update, level),
                Err(e) => state.error.set(Some(format!("update failed: {e}"))),
            }
            busy.set_value(false);
        });
    }
}
