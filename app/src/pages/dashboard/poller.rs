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
    use std::time::Duration;

    pub fn start(state: DashState) {
        let busy = StoredValue::new(false);
        Effect::new(move |previous: Option<Option<IntervalHandle>>| {
            if let Some(Some(handle)) = previous {
                handle.clear();
            }
            let secs = state.refresh.get();
            // A new level wants its lines at once; a new interval starts counting now.
            state.level.track();
            poll(state, busy);
            set_interval_with_handle(move || poll(state, busy), Duration::from_secs(u64::from(secs))).ok()
        });
    }

    /// One poll, skipped while the previous one is still in flight (a slow server is not piled
    /// onto).
    fn poll(state: DashState, busy: StoredValue<bool>) {
        if busy.get_value() {
            return;
        }
        busy.set_value(true);
        let since = state.rows.with_untracked(|r| r.back().map_or(0, |r| r.seq));
        let log_since = state.log_seq.get_untracked();
        let level = state.level.get_untracked();
        leptos::task::spawn_local(async move {
            match poll_dashboard(since, log_since, level.as_str().to_string()).await {
                Ok(update) => state.apply(update, level),
                Err(e) => state.error.set(Some(format!("update failed: {e}"))),
            }
            busy.set_value(false);
        });
    }
}
