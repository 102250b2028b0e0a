//! Injected faults, for tests of the merchant side: added latency, a share of
//! 503 answers, and OAuth tokens refused as if revoked. All off by default;
//! whichever is on is announced with a warning at start.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use crate::error::ApiError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added to every API answer (`SANDBOX_FAULT_LATENCY_MS`).
    pub latency: Duration,
    /// Share of API requests answered 503, 0.0–1.0 (`SANDBOX_FAULT_ERROR_RATE`).
    pub error_rate: f64,
    /// Share of checkout-auth calls whose valid OAuth token is refused as
    /// revoked, 0.0–1.0 (`SANDBOX_FAULT_OAUTH_REVOKE_RATE`).
    pub oauth_revoke_rate: f64,
}

impl Faults {
    pub fn any(&self) -> bool {
        *self != Self::default()
    }

    pub fn announce(&self) {
        if self.any() {
            tracing::warn!(
                latency_ms = self.latency.as_millis() as u64,
                error_rate = self.error_rate,
                oauth_revoke_rate = self.oauth_revoke_rate,
                "FAULT INJECTION IS ON: this sandbox misbehaves on purpose"
            );
        }
    }

    /// Whether to refuse this call's OAuth token as if it had been revoked.
    pub fn revoke_oauth_token(&self) -> bool {
        chance(self.oauth_revoke_rate)
    }
}

fn chance(rate: f64) -> bool {
    rate > 0.0 && rand::rng().random_bool(rate.clamp(0.0, 1.0))
}

/// Latency and 503s, in front of the vendor API (not the `/sandbox/` controls).
/// Its state is the configured [`Faults`], all it needs.
pub async fn inject(State(faults): State<Faults>, request: Request<Body>, next: Next) -> Response {
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if chance(faults.error_rate) {
        return ApiError::Unavailable.into_response();
    }
    next.run(request).await
}
