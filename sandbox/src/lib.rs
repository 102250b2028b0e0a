//! A local stand-in for the Alternative Payments API.
//!
//! It is the vendor's system, kept apart from the merchant's as if another
//! company wrote it: the merchant side reaches it only over HTTP, as it would
//! reach the real API. Run it alone (`cargo run -p sandbox`) or embedded in
//! the merchant server, which starts it when no vendor URL is configured.

mod bearer;
mod checkout_api;
mod checkout_auth;
pub mod clock;
mod config;
mod error;
mod keys;
mod oauth;
mod stats;
mod store;
pub mod token;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError};
pub use oauth::ACCESS_TOKEN_PREFIX;
pub use stats::Snapshot as StatsSnapshot;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    config: Arc<Config>,
    store: Arc<store::Store>,
    tokens: Arc<token::CheckoutTokens>,
    clock: Arc<dyn Clock>,
    stats: Arc<stats::Stats>,
}

impl Sandbox {
    /// A sandbox with the documented seed data and a fresh signing key.
    pub fn new(config: Config, clock: impl Clock) -> Self {
        let ring = keys::KeyRing::new(
            clock.now(),
            config.key_rotation.as_secs(),
            // A retired key verifies as long as a token it signed may live.
            config.checkout_token_ttl.as_secs() + token::LEEWAY_SECS,
        );
        Self {
            config: Arc::new(config),
            store: Arc::new(store::Store::seeded()),
            tokens: Arc::new(token::CheckoutTokens::new(ring)),
            clock: Arc::new(clock),
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The vendor API, as routes.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/oauth/token", post(oauth::issue_token))
            .route("/v1/checkout-auth/init", post(checkout_auth::init))
            // Some environments of the real API serve the path without the version.
            .route("/checkout-auth/init", post(checkout_auth::init))
            .route("/checkout/v1/invoice", get(checkout_api::invoice))
            .route("/.well-known/jwks.json", get(jwks))
            .route("/sandbox/stats", get(stats::stats))
            .route("/sandbox/rotate-keys", post(rotate_keys));
        api.layer(self.cors()).with_state(self.clone())
    }

    /// The browser SDK calls the checkout API from the merchant's page, so
    /// those origins may call with an `Authorization` header; no cookies are
    /// involved, so credentials mode stays off.
    fn cors(&self) -> CorsLayer {
        let origins: Vec<HeaderValue> = self
            .config
            .allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .max_age(std::time::Duration::from_secs(600))
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// `GET /.well-known/jwks.json`: the keys that verify checkout tokens now.
/// Cacheable for minutes: a verifier that meets an unknown `kid` fetches again.
async fn jwks(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(sandbox.tokens.keys().jwks(sandbox.clock.now())),
    )
}

/// `POST /sandbox/rotate-keys`: a sandbox-only switch to exercise rotation.
async fn rotate_keys(State(sandbox): State<Sandbox>) -> StatusCode {
    sandbox.tokens.keys().rotate(sandbox.clock.now());
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests;
