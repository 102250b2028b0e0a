//! Counters that tests read at `GET /sandbox/stats`, since the merchant side's
//! promises ("one OAuth call per token lifetime") are checked against them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::Sandbox;

#[derive(Debug, Default)]
pub struct Stats {
    oauth_tokens_issued: AtomicU64,
    checkout_tokens_issued: AtomicU64,
    checkout_tokens_expired: AtomicU64,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Snapshot {
    pub oauth_tokens_issued: u64,
    pub checkout_tokens_issued: u64,
    /// Calls refused with `access_token_expired`.
    pub checkout_tokens_expired: u64,
}

impl Stats {
    pub fn oauth_token_issued(&self) {
        self.oauth_tokens_issued.fetch_add(1, Relaxed);
    }
    pub fn checkout_token_issued(&self) {
        self.checkout_tokens_issued.fetch_add(1, Relaxed);
    }
    pub fn checkout_token_expired(&self) {
        self.checkout_tokens_expired.fetch_add(1, Relaxed);
    }
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            oauth_tokens_issued: self.oauth_tokens_issued.load(Relaxed),
            checkout_tokens_issued: self.checkout_tokens_issued.load(Relaxed),
            checkout_tokens_expired: self.checkout_tokens_expired.load(Relaxed),
        }
    }
}

pub async fn stats(State(sandbox): State<Sandbox>) -> Json<Snapshot> {
    Json(sandbox.stats.snapshot())
}
