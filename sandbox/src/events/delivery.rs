//! Delivering events to the partner's webhook endpoint, at least once: an
//! event stays `pending` until an attempt gets a 2xx back, is tried again
//! with a doubling delay (1 s, 2 s, 4 s … an hour at most, with jitter so
//! a recovering endpoint is not hit by every event at once), and is marked
//! `failed` once its retry period is over (`SANDBOX_WEBHOOK_RETRY_FOR_SECS`,
//! 3 days by default; a resend starts a new one).
//!
//! One delivery task per sandbox, oldest due event first. A crash loses
//! nothing: what is due is read from the database, so after a restart the
//! pending events go out again — which is why receivers must treat a
//! repeated event id as already handled.

use std::time::Duration;

use rand::Rng;

use super::signing::{signature_header, SIGNATURE_HEADER};
use super::StoredEvent;
use crate::clock::UnixSeconds;
use crate::state::Sandbox;
use crate::store::StoreError;
use crate::webhook_endpoint::Webhook;

/// How long one attempt may take before it counts as failed.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
pub const MAX_BACKOFF_SECS: u64 = 3600;
/// How many due events one pass takes; the next pass takes the rest.
const BATCH: i64 = 50;
/// How often the task looks for due retries when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Delivers every due event until `shutdown`; returns at once when no
/// endpoint is configured (events are then stored, listed, and wait).
pub async fn run(sandbox: Sandbox, shutdown: impl std::future::Future<Output = ()>) {
    let Some(webhook) = sandbox.config.webhook.clone() else {
        return;
    };
    let http = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        // An endpoint is called at the address it was registered with, never
        // where a redirect points.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds");
    tracing::info!(url = %webhook.url, "delivering events to the webhook endpoint");
    tokio::pin!(shutdown);
    loop {
        let paused = sandbox
            .delivery_paused
            .load(std::sync::atomic::Ordering::SeqCst);
        if paused {
            // Stored and waiting: nothing is lost while paused.
        } else if let Err(error) = deliver_due(&sandbox, &http, &webhook).await {
            tracing::error!(%error, "event delivery: the store failed");
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = sandbox.events_due.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One pass: every event due now is tried once (or given up, past its
/// retry period). Returns how many were attempted.
pub async fn deliver_due(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    webhook: &Webhook,
) -> Result<usize, StoreError> {
    let mut attempted = 0;
    loop {
        let now = sandbox.clock.now();
        let due = sandbox.store.due_events(now, BATCH).await?;
        if due.is_empty() {
            return Ok(attempted);
        }
        for event in due {
            if now as i64 > event.deliver_until {
                tracing::warn!(event = %event.id, attempts = event.attempts, "event delivery failed for good");
                sandbox.store.event_failed(&event.id).await?;
                sandbox.stats.event_failed();
                continue;
            }
            attempted += 1;
            match attempt(http, webhook, &event, sandbox.clock.now()).await {
                Ok(()) => {
                    sandbox.store.event_delivered(&event.id).await?;
                    sandbox.stats.event_delivered();
                }
                Err(problem) => {
                    let next = now + backoff_secs(event.attempts as u64 + 1);
                    tracing::info!(event = %event.id, %problem, retry_at = next, "event delivery failed; will retry");
                    sandbox.store.event_retry(&event.id, next, &problem).await?;
                    sandbox.stats.event_retried();
                }
            }
        }
    }
}

/// One POST of the event's exact stored body, signed at `now`.
async fn attempt(
    http: &reqwest::Client,
    webhook: &Webhook,
    event: &StoredEvent,
    now: UnixSeconds,
) -> Result<(), String> {
    let response = http
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            SIGNATURE_HEADER.as_str(),
            signature_header(&webhook.secrets, now, event.body.as_bytes()),
        )
        .header("alternative-event-id", &event.id)
        .body(event.body.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                "request failed".to_owned()
            }
        })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", response.status().as_u16()))
    }
}

/// The wait before attempt `n + 1` after `n` failed ones: 2^(n-1) seconds,
/// at most an hour, plus up to a quarter more at random.
fn backoff_secs(failed: u64) -> u64 {
    let base = 1u64
        .checked_shl(failed.saturating_sub(1).min(20) as u32)
        .unwrap_or(MAX_BACKOFF_SECS)
        .min(MAX_BACKOFF_SECS);
    base + rand::rng().random_range(0..=base / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_an_hour() {
        for (failed, low) in [(1, 1), (2, 2), (3, 4), (10, 512), (13, 3600), (60, 3600)] {
            let wait = backoff_secs(failed);
            assert!((low..=low + low / 4).contains(&wait), "{failed}: {wait}");
        }
    }
}
