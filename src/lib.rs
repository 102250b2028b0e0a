//! The wasm entry point: it hydrates the islands of the server-rendered
//! `app` (the checkout component) and nothing else.

// Linked for its islands: each `#[island]` exports its own hydrate function.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
