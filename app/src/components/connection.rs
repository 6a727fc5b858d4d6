//! The badge that says whether the numbers on screen are live.

use crate::stream::Connection;
use leptos::prelude::*;

/// Shows "live", "stale", "connecting…" or "reconnecting…"; announced politely to screen
/// readers.
#[component]
pub fn ConnectionBadge(connection: ReadSignal<Connection>) -> impl IntoView {
    let class = move || match connection.get() {
        Connection::Live => "badge badge-live",
        Connection::Connecting => "badge badge-wait",
        Connection::Stale | Connection::Reconnecting => "badge badge-down",
    };
    view! {
        <span class=class role="status" aria-live="polite" data-testid="connection">
            {move || connection.get().label()}
        </span>
    }
}
