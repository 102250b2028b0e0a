//! Catching up on the vendor's events: what the webhook endpoint missed
//! (down, misconfigured, its secret wrong) is read from the vendor's own
//! list (`GET /v1/events`, with the merchant's OAuth token) and recorded
//! through the same path as a delivered event — the same dedup by event id,
//! the same outcomes — so a payment whose event was lost, by a payer who
//! closed the tab right after Pay, is still recorded.
//!
//! The list is read oldest first from the last event recorded (its id is
//! kept in `event_cursor`, moved only once every event up to it is
//! recorded), so a restart neither reads everything again nor skips one.
//! In a fleet one instance at a time runs it, under a lease in Redis; with
//! Redis away each may (recording is idempotent: the worst is one more
//! read of the list).

use std::sync::Arc;
use std::time::Duration;

use alternative_client::webhook::read_listed_event;
use alternative_client::{EventPage, ListedEvent, VendorError, EVENT_PAGE};
use fleet_redis::{Holder, Lease};

use super::settle::unix_now;
use super::CheckoutService;
use crate::fleet::FleetRedis;
use crate::metrics::{CATCH_UP_FOUND, CATCH_UP_RUNS};
use crate::payments::{Recorded, Via};

/// How long a run holds the fleet's lease without a word: it is renewed
/// after every page, and given up at the end. Longer than any one page
/// takes (the vendor call's timeout and retries, and a page's records).
pub const CATCH_UP_LEASE: Duration = Duration::from_secs(60);

/// What one catch-up read and recorded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CaughtUp {
    /// Events read from the vendor's list.
    pub read: usize,
    /// Of those, events the merchant had not recorded yet.
    pub found: usize,
}

/// How a catch-up run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn {
    /// It ran, and read and found this much.
    Ran(CaughtUp),
    /// Another instance of the fleet is running it.
    Skipped,
    /// The vendor or the database failed (logged); the next period tries again.
    Failed,
}

#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error("the vendor's event list: {0}")]
    Vendor(#[from] VendorError),
    #[error("the merchant database failed")]
    Storage,
    #[error("another instance took the lease over")]
    LeaseLost,
}

impl CheckoutService {
    /// Runs [`Self::catch_up_once`] now and then every `period`, for as
    /// long as the server runs; `fleet`: the Redis its lease is held in.
    pub async fn catch_up_every(self: Arc<Self>, period: Duration, fleet: Option<FleetRedis>) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.catch_up_once(fleet.as_ref()).await;
        }
    }

    /// One catch-up, unless another instance of the fleet is running one;
    /// counted and logged.
    pub async fn catch_up_once(&self, fleet: Option<&FleetRedis>) -> Turn {
        let holder = match fleet {
            None => None,
            Some(redis) => match redis
                .lease("catch_up", "events-catch-up", CATCH_UP_LEASE)
                .await
            {
                Lease::Held(holder) => Some(holder),
                Lease::Elsewhere => return Turn::Skipped,
                // Counted as a fallback by `FleetRedis`.
                Lease::Unknown => None,
            },
        };
        let lease = fleet.zip(holder.as_ref());
        let outcome = self.catch_up_holding(unix_now(), lease).await;
        if let (Some(redis), Some(holder)) = (fleet, holder) {
            redis.release("catch_up", holder).await;
        }
        match outcome {
            Ok(caught) => {
                metrics::counter!(CATCH_UP_RUNS, "outcome" => "ok").increment(1);
                if caught.found > 0 {
                    tracing::warn!(
                        found = caught.found,
                        read = caught.read,
                        "the catch-up recorded events the webhook had not delivered"
                    );
                }
                Turn::Ran(caught)
            }
            Err(error) => {
                metrics::counter!(CATCH_UP_RUNS, "outcome" => "failed").increment(1);
                tracing::warn!(%error, "the catch-up on the vendor's events failed; it runs again next period");
                Turn::Failed
            }
        }
    }

    /// Reads the vendor's events from the last one recorded and records
    /// each (at `now`), page by page, moving the cursor after each page.
    pub async fn catch_up(&self, now: u64) -> Result<CaughtUp, CatchUpError> {
        self.catch_up_holding(now, None).await
    }

    /// [`Self::catch_up`] under the fleet's `lease`, if there is one: it is
    /// renewed after each page, and the run stops if it was lost (another
    /// instance took over after it ran out).
    async fn catch_up_holding(
        &self,
        now: u64,
        lease: Option<(&FleetRedis, &Holder)>,
    ) -> Result<CaughtUp, CatchUpError> {
        // One run at a time here, and none across a demo reset (which
        // forgets the payments and the cursor: `Self::forget_payments`).
        let _settling = self.settling.lock().await;
        let storage = |error| {
            tracing::error!(%error, "merchant database error in the catch-up");
            CatchUpError::Storage
        };
        let mut caught = CaughtUp::default();
        let mut cursor = self.records.event_cursor().await.map_err(storage)?;
        let mut started_over = false;
        loop {
            let page = match self.vendor.events_after(cursor.as_deref()).await? {
                EventPage::Events(page) => page,
                EventPage::UnknownCursor if !started_over => {
                    tracing::warn!(cursor = ?cursor, "the vendor does not know the catch-up's last event (another environment, or a reset): reading its list from the start");
                    started_over = true;
                    cursor = None;
                    self.records
                        .set_event_cursor(None, now)
                        .await
                        .map_err(storage)?;
                    continue;
                }
                EventPage::UnknownCursor => {
                    return Err(VendorError::Malformed(
                        "the vendor does not know an event it listed",
                    )
                    .into())
                }
            };
            for listed in &page {
                caught.read += 1;
                if self.catch_up_on(listed, now).await? {
                    caught.found += 1;
                }
            }
            if let Some(newest) = page.last() {
                self.records
                    .set_event_cursor(Some(&newest.id), now)
                    .await
                    .map_err(storage)?;
                cursor = Some(newest.id.clone());
            }
            if page.len() < EVENT_PAGE {
                return Ok(caught);
            }
            if let Some((redis, holder)) = lease {
                if !redis.renew("catch_up", holder, CATCH_UP_LEASE).await {
                    return Err(CatchUpError::LeaseLost);
                }
            }
        }
    }

    /// Records one listed event; whether it was new to the merchant.
    async fn catch_up_on(&self, listed: &ListedEvent, now: u64) -> Result<bool, CatchUpError> {
        let body = listed.body.to_string();
        let event = match read_listed_event(body.as_bytes()) {
            Ok(event) if event.id == listed.id => event,
            // Nothing to key it by: the vendor keeps it; a person is told.
            unreadable => {
                tracing::error!(id = ?listed.id, problem = ?unreadable.err(), "an event in the vendor's list that is not an event: skipped");
                metrics::counter!(CATCH_UP_FOUND, "outcome" => "unreadable").increment(1);
                return Ok(false);
            }
        };
        let recorded = self
            .record_event(&event, &body, now, Via::CatchUp)
            .await
            .map_err(|_| CatchUpError::Storage)?;
        if recorded == Recorded::DuplicateEvent {
            return Ok(false);
        }
        metrics::counter!(CATCH_UP_FOUND, "outcome" => recorded.label()).increment(1);
        tracing::info!(event = %event.id, outcome = recorded.label(), "the catch-up found an event the webhook had not delivered");
        Ok(true)
    }

    /// Forgets every recorded payment and event, and the catch-up's place:
    /// for the sandbox environment's demo when the vendor sandbox is reset
    /// (never for real money). Waits for a catch-up in progress, so none
    /// records what the reset just undid.
    pub async fn forget_payments(&self) -> Result<(), crate::db::DbError> {
        let _settling = self.settling.lock().await;
        self.records.forget_payments().await
    }
}
