//! The browser entry: hydrates the server-rendered page. Everything else lives in `app`.

/// Called by the JS loader once the WASM module is instantiated: hydrates the page this
/// address shows (`app::hydrate`; `/dashboard`'s code is fetched first, as its own chunk).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate();
}
