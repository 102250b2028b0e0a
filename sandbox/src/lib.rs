//! A local stand-in for the Alternative Payments API.
//!
//! It is the vendor's system, kept apart from the merchant's as if another
//! company wrote it: the merchant side reaches it only over HTTP, as it would
//! reach the real API. Run it alone (`cargo run -p sandbox`) or embedded in
//! the merchant server, which starts it when no vendor URL is configured.

mod auth_failures;
mod bearer;
mod checkout_api;
mod checkout_auth;
pub mod clock;
mod config;
mod controls;
mod error;
mod faults;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod keys;
mod limits;
mod oauth;
mod openapi;
mod payments;
mod pdf;
mod seed;
mod stats;
mod store;
pub mod token;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use clock::{Clock, ManualClock, SkewedClock, SystemClock};
pub use config::{Config, ConfigError};
pub use controls::CONTROL_HEADER;
pub use oauth::ACCESS_TOKEN_PREFIX;
pub use seed::Seed;
pub use stats::Snapshot as StatsSnapshot;

use crate::clock::UnixSeconds;
use crate::error::ApiError;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    config: Arc<Config>,
    store: Arc<store::Store>,
    tokens: Arc<token::CheckoutTokens>,
    clock: Arc<dyn Clock>,
    stats: Arc<stats::Stats>,
    links: Arc<pdf::LinkSigner>,
    limiter: Arc<limits::RateLimiter>,
    auth_failures: Arc<auth_failures::AuthFailureLimiter>,
    /// Where [`Sandbox::serve`] listens (the configured address may be port
    /// 0): the base of the links it hands out, unless a public URL is set.
    bound: Arc<std::sync::OnceLock<SocketAddr>>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the sandbox database: {0}")]
    Store(#[from] store::StoreError),
    #[error("the seed file {path}: {problem}")]
    Seed { path: String, problem: String },
}

impl Sandbox {
    /// Opens the sandbox's database (seeding it on first start) and its keys.
    pub async fn open(config: Config, clock: impl Clock) -> Result<Self, OpenError> {
        let store = store::Store::open(&config.database_url).await?;
        let sandbox_seed = load_seed(&config)?;
        if store.is_empty().await? {
            tracing::info!(database = %config.database_url, "seeding an empty sandbox database");
            store.reset(&sandbox_seed).await?;
        }
        config.faults.announce();
        if config.clock_offset_secs != 0 {
            tracing::warn!(
                offset_secs = config.clock_offset_secs,
                "SANDBOX_CLOCK_OFFSET_SECS: the sandbox's clock is off on purpose"
            );
        }
        let clock = SkewedClock {
            inner: clock,
            offset_millis: config.clock_offset_secs.saturating_mul(1000),
        };
        let now = clock.now();
        let stored = store.signing_keys().await?;
        let signing = match stored.iter().rev().find(|k| k.retired_at.is_none()) {
            Some(key) => key.clone(),
            None => {
                let key = keys::generate(now);
                store.save_rotation(&key, now).await?;
                key
            }
        };
        let ring = keys::KeyRing::new(
            &stored,
            &signing,
            config.key_rotation.as_secs(),
            // A retired key verifies as long as a token it signed may live.
            config.checkout_token_ttl.as_secs() + token::LEEWAY_SECS,
        );
        Ok(Self {
            store: Arc::new(store),
            tokens: Arc::new(token::CheckoutTokens::new(ring)),
            clock: Arc::new(clock),
            stats: Arc::default(),
            links: Arc::new(pdf::LinkSigner::random()),
            bound: Arc::default(),
            limiter: Arc::new(limits::RateLimiter::new(config.rate_limit_per_sec)),
            auth_failures: Arc::default(),
            config: Arc::new(config),
        })
    }

    /// Restores the seed data: every payment, grant and idempotency key is forgotten.
    pub async fn reset(&self) -> Result<(), OpenError> {
        self.store.reset(&load_seed(&self.config)?).await?;
        Ok(())
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Puts a new signing key in charge if the current one has served its
    /// period (or, `force`d, has signed long enough: see `controls`),
    /// storing it first so a restart keeps it.
    async fn rotate_keys_if_due(&self, now: UnixSeconds, force: bool) -> Result<(), ApiError> {
        let keys = self.tokens.keys();
        if !force && !keys.rotation_due(now) {
            return Ok(());
        }
        let _write = self.store.write_lock().await;
        // Another request may have rotated while this one waited.
        if force {
            controls::may_force_rotation(keys, now)?;
        } else if !keys.rotation_due(now) {
            return Ok(());
        }
        let next = keys::generate(now);
        self.store.save_rotation(&next, now).await?;
        keys.install(&next, now);
        self.store
            .forget_keys_retired_before(keys.retirement_cutoff(now))
            .await?;
        Ok(())
    }

    /// The base of the links this sandbox hands out: `SANDBOX_PUBLIC_URL`,
    /// else its own address — never the request's `Host`, which the client
    /// chooses (a link to wherever it likes, signed by the sandbox).
    fn public_url(&self) -> String {
        self.config
            .public_url(self.bound.get().copied().unwrap_or(self.config.addr))
    }

    /// Takes one request from `key`'s rate-limit bucket.
    fn rate_limit(&self, key: &str) -> Result<(), ApiError> {
        self.limiter.check(key, self.clock.now_millis())
    }

    /// The vendor API, as routes.
    pub fn router(&self) -> Router {
        let vendor_api = Router::new()
            .route("/oauth/token", post(oauth::issue_token))
            .route("/v1/checkout-auth/init", post(checkout_auth::init))
            // Some environments of the real API serve the path without the version.
            .route("/checkout-auth/init", post(checkout_auth::init))
            .route("/checkout/v1/invoice", get(checkout_api::invoice))
            .route("/checkout/v1/invoice/pdf-link", get(pdf::pdf_link))
            .route(
                "/checkout/v1/payment-methods",
                get(checkout_api::payment_methods),
            )
            .route("/checkout/v1/payments", post(payments::pay))
            .route("/files/invoices/{file}", get(pdf::invoice_pdf))
            .route("/.well-known/jwks.json", get(jwks))
            .route_layer(middleware::from_fn_with_state(self.clone(), faults::inject));
        // Documents and counters: never faulty, never rate-limited.
        let documents = Router::new()
            .route("/openapi.json", get(openapi::openapi_json))
            .route("/sandbox/stats", get(stats::stats));
        vendor_api
            .merge(documents)
            .layer(self.cors())
            // The controls stay outside the CORS layer: no origin may call
            // them from a browser (see `controls`).
            .merge(controls::routes(self))
            // Size caps come first, so an oversized request costs no parsing or crypto.
            .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
            .layer(middleware::from_fn(limits::cap_headers))
            .layer(middleware::from_fn_with_state(self.clone(), stamp_date))
            .with_state(self.clone())
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

    /// Serves on `listener` until `shutdown` resolves. Each request knows
    /// its peer's address (`ConnectInfo`): failed client authentications are
    /// limited per address.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let _ = self.bound.set(listener.local_addr()?);
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

/// Every answer's `Date` (RFC 9110 §6.6.1) is the sandbox's own "now", as a
/// vendor's server would send its clock's: a client can tell the vendor's
/// time from it (the merchant reads token lifetimes that way).
async fn stamp_date(
    State(sandbox): State<Sandbox>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(sandbox.clock.now());
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
        response.headers_mut().insert(header::DATE, date);
    }
    response
}

fn load_seed(config: &Config) -> Result<Seed, OpenError> {
    let Some(path) = &config.seed_file else {
        return Ok(Seed::demo());
    };
    let problem = |problem: String| OpenError::Seed {
        path: path.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
    Seed::parse(&text).map_err(|e| problem(e.to_string()))
}

/// `GET /.well-known/jwks.json`: the keys that verify checkout tokens now.
/// Cacheable for minutes: a verifier that meets an unknown `kid` fetches again.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "keys",
    responses((status = 200, description = "A JWK Set (RFC 7517) of Ed25519 (OKP) keys, each with `kid`", body = Object)),
)]
async fn jwks(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(sandbox.tokens.keys().jwks(sandbox.clock.now())),
    )
}

#[cfg(test)]
mod tests;
