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
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document the server renders around [`App`].
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
                <MetaTags/>
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
    provide_meta_context();
    // Effects run only in the browser, once hydrated: a test waits for this flag before clicking.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <Stylesheet id="leptos" href="/pkg/pulse.css"/>
        <Title text="Pulse: a live event pipeline"/>
        <Router>
            <main class="page" data-hydrated=move || hydrated.get().to_string()>
                <Routes fallback=|| view! { <p>"Page not found."</p> }>
                    <Route path=StaticSegment("") view=pages::HomePage/>
                    <Route path=StaticSegment("dashboard") view=pages::DashboardPage/>
                </Routes>
            </main>
        </Router>
    }
}
