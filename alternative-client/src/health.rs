//! Whether the vendor answers, for a readiness probe: asked afresh at most
//! once per interval ([`PROBE_INTERVAL`] by default), so that a load
//! balancer probing every second — or anyone calling the public `/readyz`
//! — does not turn into load on the vendor. A failure stands for the
//! interval as a success does, and probes arriving while the vendor is
//! asked wait for that one answer.

use std::future::Future;
use std::time::Duration;

// Tokio's clock, which tests pause and move.
use tokio::time::Instant;

use crate::error::VendorError;

/// How long one probe's outcome stands, by default.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);

pub(crate) struct Probe {
    interval: Duration,
    last: tokio::sync::Mutex<Option<(Instant, Result<(), VendorError>)>>,
}

impl Probe {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: tokio::sync::Mutex::default(),
        }
    }

    /// The last outcome if it is recent, else `ask`'s. Probes arriving
    /// together wait for one `ask`.
    pub(crate) async fn outcome<F, Fut>(&self, ask: F) -> Result<(), VendorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(), VendorError>>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, outcome)) = last.as_ref() {
            if at.elapsed() < self.interval {
                return outcome.clone();
            }
        }
        let outcome = ask().await;
        *last = Some((Instant::now(), outcome.clone()));
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn down() -> VendorError {
        VendorError::Unavailable {
            reason: "connection refused".into(),
            retry_after: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_outcome_stands_for_the_interval_then_the_vendor_is_asked_again() {
        let probe = Probe::new(PROBE_INTERVAL);
        let asked = AtomicUsize::new(0);
        let ask = |answer: Result<(), VendorError>| {
            asked.fetch_add(1, Ordering::SeqCst);
            async move { answer }
        };
        assert!(probe.outcome(|| ask(Ok(()))).await.is_ok());
        // The vendor goes down: within the interval the last outcome stands,
        // without a call.
        tokio::time::advance(PROBE_INTERVAL - Duration::from_millis(1)).await;
        assert!(probe.outcome(|| ask(Err(down()))).await.is_ok());
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // Past it, the probe fails, and keeps failing without asking again…
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(probe.outcome(|| ask(Err(down()))).await.is_err());
        assert!(probe.outcome(|| ask(Ok(()))).await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        // …until the next interval, when the vendor is back.
        tokio::time::advance(PROBE_INTERVAL).await;
        assert!(probe.outcome(|| ask(Ok(()))).await.is_ok());
        assert_eq!(asked.load(Ordering::SeqCst), 3);
    }
}
