//! Pulse's shared crate: compiled into the server (feature `ssr`) and into the browser's WASM
//! (feature `hydrate`).
//!
//! # Layout
//! - [`model`]: wire types (sensor readings, stats snapshots) both sides use.
//! - [`api`]: server functions the UI calls, and the [`api::Backend`] contract the server fills.
//! - [`error`]: the error server functions return.
//! - `components/`, `pages/`: the view; [`stream`]: the WebSocket feeding it.
//! - [`shell`] / [`App`]: the HTML document and the router.

// Leptos' typed views nest deeply; the live page's panels exceed the default of 128.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod format;
pub mod model;
pub mod pages;
pub mod stream;

use leptos::prelude::*;
use leptos_router::{
    Lazy, StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document the server renders around [`App`]. The title and stylesheet are plain
/// tags here rather than `leptos_meta` components inside [`App`]: no page changes them, and
/// `leptos_meta`'s browser half would be WASM every visitor downloads.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" id="leptos" href="/pkg/pulse.css"/>
                <title>"Pulse: a live event pipeline"</title>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: routes and the hydration marker end-to-end tests wait for.
#[component]
pub fn App() -> impl IntoView {
    // Effects run only in the browser, once hydrated: a test waits for this flag before clicking.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <Router>
            <main class="page" data-hydrated=move || hydrated.get().to_string()>
                <Routes fallback=|| view! { <p>"Page not found."</p> }>
                    <Route path=StaticSegment("") view=pages::HomePage/>
                    // Lazy: its code is a separate WASM chunk (`--split`), not part of what `/` loads.
                    <Route path=StaticSegment("dashboard") view={Lazy::<pages::DashboardRoute>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}
