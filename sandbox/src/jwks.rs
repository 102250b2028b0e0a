//! `GET /.well-known/jwks.json`: the public keys that verify checkout tokens
//! (RFC 7517 §5), for any verifier: the merchant, or a plain JWT library.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use crate::state::Sandbox;

/// `GET /.well-known/jwks.json`: the keys that verify checkout tokens now.
/// Cacheable for minutes: a verifier that meets an unknown `kid` fetches again.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "keys",
    responses((status = 200, description = "A JWK Set (RFC 7517) of Ed25519 (OKP) keys, each with `kid`", body = Object)),
)]
pub async fn jwks(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(sandbox.tokens.keys().jwks(sandbox.clock.now())),
    )
}
