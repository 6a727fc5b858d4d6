//! Pulse's shared crate: compiled into the server (feature `ssr`) and into the browser's WASM
//! (feature `hydrate`).
//!
//! # Layout
//! - [`model`]: wire types (sensor readings, stats snapshots) both sides use.
//! - [`api`]: server functions the UI calls, and the [`api::Backend`] contract the server fills.
//! - [`error`]: the error server functions return.
//! - `components/`, `pages/`: the view; [`stream`]: the WebSocket feeding it.
//! - [`shell`] / [`hydrate`]: the HTML document the server renders, and the browser's entry;
//!   [`Page`]: which page an address shows.

// Leptos' typed views nest deeply; the live page's panels exceed the default of 128.
#![recursion_limit = "256"]
// `#[server]` and `#[component]` expand to `pub` items (argument structs, props, the function
// itself) that are re-exported through `api::*` / `components::*`, but the lint reads them at
// the macro's span inside a private module and flags every one (59 false positives). The
// crate's surface is what this file re-exports.
#![allow(unreachable_pub)]

pub mod api;
pub mod components;
pub mod error;
pub mod format;
pub mod model;
pub mod pages;
pub mod stream;

use leptos::prelude::*;
pub use pages::Page;

/// The HTML document the server renders around the requested page. The title and stylesheet
/// are plain tags here rather than `leptos_meta` components: no page changes them, and
/// `leptos_meta`'s browser half would be WASM every visitor downloads.
///
/// There is no client-side router: each page is its own document, picked here from the
/// request's path (see [`Page`]), and hydrated by [`hydrate`] from the address bar's. The
/// router was 60 KB of the gzipped WASM a visitor of `/` downloads, for two pages that share
/// nothing but this frame.
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
            <body>{pages::render(Page::requested())}</body>
        </html>
    }
}

/// The browser's entry (called by the frontend crate once the WASM is instantiated): hydrates
/// the page the server rendered for this address. `/dashboard`'s code is a separate WASM chunk
/// (`#[lazy]`, `cargo leptos build --split`), fetched before its markup is hydrated.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    let path = window().location().pathname().unwrap_or_default();
    match Page::from_path(&path) {
        Page::Live => leptos::mount::hydrate_body(pages::LiveRoot),
        // Leptos' executor is started by `hydrate_body`, inside the chunk: until then the
        // chunk's loading is driven by wasm-bindgen's.
        Page::Dashboard => wasm_bindgen_futures::spawn_local(pages::hydrate_dashboard()),
        Page::NotFound => leptos::mount::hydrate_body(pages::NotFoundRoot),
    }
}
