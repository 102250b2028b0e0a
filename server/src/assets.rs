//! Caching for the site's own assets. With `hash-files` (Cargo.toml) every
//! file under `/pkg/` carries a hash of its content in its name, so a name
//! never points at other bytes: browsers may keep them for a year without
//! asking again, and a new build is fetched because its names are new. The
//! compressed copies (`.br`, `.gz`, written by `cargo leptos build --release
//! --precompress`) are picked by `leptos_axum`'s file handler per
//! `Accept-Encoding`.

use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Without hashed names a file may change under the same name: revalidate.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// Whether the asset names are content-hashed (`LEPTOS_HASH_FILES`).
#[derive(Clone, Copy)]
pub struct HashedNames(pub bool);

pub async fn cache_control(
    State(HashedNames(hashed)): State<HashedNames>,
    request: Request,
    next: Next,
) -> Response {
    let asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if asset && response.status().is_success() {
        let policy = if hashed { IMMUTABLE } else { REVALIDATE };
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, policy);
        // The same URL is sent as brotli, gzip or plain: a shared cache
        // must keep them apart.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}
