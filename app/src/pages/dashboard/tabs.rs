//! Tab switching without a reload: a tab is a real link (`/dashboard?tab=os`, so it can be
//! opened in a new tab or bookmarked), but a plain click only changes the page's tab signal and
//! pushes the address onto the history; Back and Forward switch tabs the same way.

use leptos::ev::MouseEvent;
use leptos::prelude::*;

/// Handles a click on the tab link for `key`: a plain left click switches in the page, a click
/// with a modifier (new tab, new window…) is left to the browser.
pub fn switch(ev: MouseEvent, tab: RwSignal<String>, key: &'static str) {
    if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
        return;
    }
    ev.prevent_default();
    if tab.get_untracked() == key {
        return;
    }
    #[cfg(feature = "hydrate")]
    if let Ok(history) = window().history() {
        let url = format!("/dashboard?tab={key}{}", kept_query());
        // A failed push only leaves the address as it was; the tab still switches.
        _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
    tab.set(key.to_string());
}

/// Follows Back and Forward: the tab becomes the one in the address bar.
pub fn follow_history(tab: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::popstate, move |_| {
            tab.set(super::query_param("tab").unwrap_or_else(|| "home".into()));
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = tab;
}

/// The address bar's other query parameters (refresh, level), kept across a tab switch as they
/// were written (still percent-encoded).
#[cfg(feature = "hydrate")]
fn kept_query() -> String {
    let query = super::current_query().unwrap_or_default();
    super::raw_pairs(&query)
        .filter(|(name, _)| matches!(super::decode(name).as_str(), "refresh" | "level"))
        .map(|(name, value)| format!("&{name}={value}"))
        .collect()
}
