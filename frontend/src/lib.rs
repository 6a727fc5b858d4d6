//! The browser entry: hydrates the server-rendered page. Everything else lives in `app`.

/// Called by the JS loader once the WASM module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
