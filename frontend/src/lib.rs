//! The browser entry: hydrates the server-rendered page. Everything else lives in `app`.

/// Called by the JS loader once the WASM module is instantiated. `hydrate_lazy`, not
/// `hydrate_body`: a lazy route's chunk (`/dashboard`) is fetched before its markup is hydrated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
