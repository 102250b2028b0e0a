//! A local stand-in for the Alternative Payments API.
//!
//! It is the vendor's system, kept apart from the merchant's as if another
//! company wrote it: the merchant side reaches it only over HTTP, as it would
//! reach the real API. Run it alone (`cargo run -p sandbox`) or embedded in
//! the merchant server, which starts it when no vendor URL is configured.
//!
//! This file holds the module list, the public names and the routes; the
//! shared state is `state`, each endpoint a module of its own.

mod auth_failures;
mod bearer;
mod callers;
mod checkout_api;
mod checkout_auth;
pub mod clock;
mod config;
mod controls;
mod ended;
mod error;
mod events;
mod faults;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod ids;
mod jwks;
mod keys;
mod limits;
mod links;
mod oauth;
mod openapi;
mod partner_api;
mod payments;
mod pdf;
mod records;
mod request_span;
mod seed;
mod state;
mod stats;
mod store;
pub mod testing;
pub mod token;
mod webhook_endpoint;

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use clock::{Clock, ClockShift, ManualClock, ShiftedClock, SkewedClock, SystemClock};
pub use config::{Config, ConfigError};
pub use controls::CONTROL_HEADER;
pub use events::{signature_header, Webhook, WebhookSecret, SIGNATURE_HEADER};
pub use oauth::ACCESS_TOKEN_PREFIX;
pub use seed::Seed;
pub use state::{OpenError, Sandbox};
pub use stats::Snapshot as StatsSnapshot;

impl Sandbox {
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
            .route("/v1/invoices/{id}", get(partner_api::invoice))
            .route("/v1/events", get(events::list))
            .route("/v1/events/{id}/resend", post(events::resend))
            .route("/files/invoices/{file}", get(pdf::invoice_pdf))
            .route("/.well-known/jwks.json", get(jwks::jwks))
            .route_layer(middleware::from_fn_with_state(
                self.config.faults.clone(),
                faults::inject,
            ));
        // Documents and counters: never faulty, never rate-limited.
        let documents = Router::new()
            .route("/openapi.json", get(openapi::openapi_json))
            .route("/sandbox/stats", get(stats::stats))
            .route("/sandbox/payments", get(stats::payments));
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
            .layer(middleware::from_fn(request_span::span))
            .with_state(self.clone())
    }

    /// The browser SDK calls the checkout API from the merchant's page, so
    /// those origins may call with an `Authorization` header; no cookies are
    /// involved, so credentials mode stays off. `Retry-After` is exposed:
    /// a page told 429 should know how long to wait.
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
            .expose_headers([header::RETRY_AFTER])
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
        // Event delivery stops with the server.
        let (stop_events, events_stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(events::run(self.clone(), async move {
            let _ = events_stopped.await;
        }));
        let _stop_events_on_return = stop_events;
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

#[cfg(test)]
mod tests;
