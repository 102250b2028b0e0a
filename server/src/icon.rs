//! The site's icon, answered without a page render. Browsers ask for an
//! icon with every page (Firefox and WebKit at `/favicon.ico` unless the
//! page names one); answered by the page not found, each ask read the
//! visitor's session — and slid its expiry — and rendered a whole page.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// The accent colour's square with a tick (`style/icon.svg`).
const SVG: &str = include_str!("../../style/icon.svg");

/// The icon, and a bare 404 for the address browsers guess: neither
/// touches the session (merged outside its layer).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(app::ICON_PATH, get(icon))
        .route("/favicon.ico", get(|| async { StatusCode::NOT_FOUND }))
}

async fn icon() -> impl IntoResponse {
    // Not content-hashed: a day, then the browser asks again.
    (
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        SVG,
    )
}
