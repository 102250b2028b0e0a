//! Caching: none for pages and server-function answers (`no-store`), and
//! for the site's own assets the longest there is. With `hash-files` (Cargo.toml) every
//! file under `/pkg/` carries a hash of its content in its name, so a name
//! never points at other bytes: browsers may keep them for a year without
//! asking again, and a new build is fetched because its names are new. The
//! compressed copies (`.br`, `.gz`, written by `cargo leptos build --release
//! --precompress`) are picked per `Accept-Encoding` by the `ServeDir` that
//! serves `/pkg/` (`leptos_axum::site_pkg_dir_service`, routed in
//! `crate::pages`).

use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Without hashed names a file may change under the same name: revalidate.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

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
    let served = response.status().is_success();
    let headers = response.headers_mut();
    if asset && served {
        let policy = if hashed { IMMUTABLE } else { REVALIDATE };
        headers.insert(CACHE_CONTROL, policy);
        // The same URL is sent as brotli, gzip or plain: a shared cache
        // must keep them apart.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    } else if !headers.contains_key(CACHE_CONTROL) {
        // Everything else is a page or a server function's answer, which
        // may carry a checkout token or the session's data (the user's
        // name, their invoices): no cache, shared or the browser's own, may
        // keep it (RFC 9111 §5.2.2.5).
        headers.insert(CACHE_CONTROL, NO_STORE);
    }
    response
}
