//! What tests read from outside: counters at `GET /sandbox/stats`, since the
//! merchant side's promises ("one OAuth call per token lifetime") are
//! checked against them, and the payments held at `GET /sandbox/payments`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::records::StoredPayment;
use crate::store::Store;

#[derive(Debug, Default)]
pub struct Stats {
    oauth_tokens_issued: AtomicU64,
    checkout_tokens_issued: AtomicU64,
    payments: AtomicU64,
    invalid_token: AtomicU64,
    access_token_expired: AtomicU64,
    events_created: AtomicU64,
    events_delivered: AtomicU64,
    event_attempts_retried: AtomicU64,
    events_failed: AtomicU64,
    rate_limited: Mutex<RateLimited>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Snapshot {
    pub oauth_tokens_issued: u64,
    pub checkout_tokens_issued: u64,
    /// Payments made since this process started (repeats replayed by
    /// idempotency are not payments).
    pub payments: u64,
    /// 401 answers since start, by `code`.
    pub unauthorized: Unauthorized,
    /// Events and their delivery to the webhook endpoint, since start.
    #[serde(default)]
    pub events: EventCounts,
    /// 429 `rate_limited` answers since start: what a merchant (or a fleet
    /// of them) sent above the quota.
    #[serde(default)]
    pub rate_limited: RateLimited,
}

/// The quota's refusals, by who was refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RateLimited {
    pub total: u64,
    /// Refusals of an API client's own calls (OAuth grant, token init,
    /// partner API), by client id.
    pub by_client: BTreeMap<String, u64>,
    /// Refusals of calls made with a checkout token (the browser's), all
    /// tokens together.
    pub checkout_tokens: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EventCounts {
    pub created: u64,
    /// Events a 2xx acknowledged (a resent one counts again).
    pub delivered: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    /// Events given up after their retry period.
    pub failed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Unauthorized {
    pub invalid_token: u64,
    pub access_token_expired: u64,
}

impl Stats {
    pub fn oauth_token_issued(&self) {
        self.oauth_tokens_issued.fetch_add(1, Relaxed);
    }
    pub fn checkout_token_issued(&self) {
        self.checkout_tokens_issued.fetch_add(1, Relaxed);
    }
    pub fn payment_made(&self) {
        self.payments.fetch_add(1, Relaxed);
    }
    pub fn invalid_token(&self) {
        self.invalid_token.fetch_add(1, Relaxed);
    }
    pub fn checkout_token_expired(&self) {
        self.access_token_expired.fetch_add(1, Relaxed);
    }
    pub fn event_created(&self) {
        self.events_created.fetch_add(1, Relaxed);
    }
    pub fn event_delivered(&self) {
        self.events_delivered.fetch_add(1, Relaxed);
    }
    pub fn event_retried(&self) {
        self.event_attempts_retried.fetch_add(1, Relaxed);
    }
    pub fn event_failed(&self) {
        self.events_failed.fetch_add(1, Relaxed);
    }
    /// A 429 for the limiter key `key`: `client:<id>` or `token:<jti>`.
    pub fn rate_limited(&self, key: &str) {
        let mut counts = self.rate_limited.lock().expect("stats lock");
        counts.total += 1;
        match key.strip_prefix("client:") {
            Some(client) => *counts.by_client.entry(client.to_owned()).or_default() += 1,
            None => counts.checkout_tokens += 1,
        }
    }
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            oauth_tokens_issued: self.oauth_tokens_issued.load(Relaxed),
            checkout_tokens_issued: self.checkout_tokens_issued.load(Relaxed),
            payments: self.payments.load(Relaxed),
            unauthorized: Unauthorized {
                invalid_token: self.invalid_token.load(Relaxed),
                access_token_expired: self.access_token_expired.load(Relaxed),
            },
            events: EventCounts {
                created: self.events_created.load(Relaxed),
                delivered: self.events_delivered.load(Relaxed),
                retried: self.event_attempts_retried.load(Relaxed),
                failed: self.events_failed.load(Relaxed),
            },
            rate_limited: self.rate_limited.lock().expect("stats lock").clone(),
        }
    }
}

#[utoipa::path(get, path = "/sandbox/stats", tag = "sandbox", responses((status = 200, body = Snapshot)))]
pub async fn stats(State(stats): State<Arc<Stats>>) -> Json<Snapshot> {
    Json(stats.snapshot())
}

/// `GET /sandbox/payments`: every payment the sandbox holds, oldest first,
/// so a drill can check from outside that each acknowledged payment is
/// stored exactly once.
#[utoipa::path(
    get,
    path = "/sandbox/payments",
    tag = "sandbox",
    responses((status = 200, body = Vec<StoredPayment>)),
)]
pub async fn payments(
    State(store): State<Arc<Store>>,
) -> Result<Json<Vec<StoredPayment>>, ApiError> {
    Ok(Json(store.payments().await?))
}
