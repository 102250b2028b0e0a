//! Probes for a load balancer or an orchestrator: `/healthz` says the
//! process answers (restart it if not); `/readyz` says it can take a
//! checkout now (send it no traffic if not): the merchant's database
//! answers and the vendor is usable. Readiness recovers by itself: every
//! probe asks again — the vendor (its OAuth token included) at most once
//! per `VendorConfig::probe_interval`, success or failure, since anyone
//! may call `/readyz`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use merchant::{CheckoutError, CheckoutService};

pub async fn alive() -> &'static str {
    "ok"
}

/// 200 `ready`, or 503 with which part is not. The details go to the log,
/// not to whoever asked: the probe is as public as the site.
pub async fn ready(State(checkout): State<Arc<CheckoutService>>) -> (StatusCode, &'static str) {
    match checkout.ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            let part = match error {
                CheckoutError::Storage => "not ready: the merchant database is not answering",
                _ => "not ready: the vendor is not usable",
            };
            (StatusCode::SERVICE_UNAVAILABLE, part)
        }
    }
}
