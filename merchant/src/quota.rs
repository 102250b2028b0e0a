//! Staying within the vendor's request quota (5 requests per second per API
//! key on the real API) instead of finding it by way of 429s.
//!
//! A GCRA limiter ("generic cell rate algorithm", a token bucket kept as one
//! timestamp): up to `burst` calls go at once, then one every `1/rate`. A call
//! over the quota waits its turn — at most `max_wait`; a longer queue than
//! that is refused at once with the time after which a retry would fit.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("over the vendor quota; retry in {retry_after:?}")]
pub struct Busy {
    pub retry_after: Duration,
}

pub struct Quota {
    interval: Duration,
    tolerance: Duration,
    max_wait: Duration,
    /// The "theoretical arrival time" of the next call at the steady rate.
    next: Mutex<Option<Instant>>,
}

impl Quota {
    /// `per_second` 0 means no quota.
    pub fn new(per_second: u32, burst: u32, max_wait: Duration) -> Self {
        let interval = if per_second == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1) / per_second
        };
        Self {
            interval,
            tolerance: interval * burst.saturating_sub(1),
            max_wait,
            next: Mutex::new(None),
        }
    }

    /// Waits for this call's turn, or says how long the queue is.
    pub async fn acquire(&self) -> Result<(), Busy> {
        if self.interval.is_zero() {
            return Ok(());
        }
        let wait = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            let wait = at.duration_since(now).saturating_sub(self.tolerance);
            if wait > self.max_wait {
                return Err(Busy { retry_after: wait });
            }
            *next = Some(at + self.interval);
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_one_call_per_interval() {
        let quota = Arc::new(Quota::new(5, 5, Duration::from_secs(2)));
        let started = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let quota = quota.clone();
                tokio::spawn(async move {
                    quota.acquire().await.unwrap();
                    started.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        assert!(times[..5].iter().all(|t| t.is_zero()), "{times:?}");
        assert_eq!(times[5], Duration::from_millis(200));
        assert_eq!(times[9], Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_longer_than_max_wait_is_refused_with_a_retry_time() {
        let quota = Quota::new(5, 5, Duration::from_millis(500));
        for _ in 0..5 {
            quota.acquire().await.unwrap(); // the burst
        }
        // The next waits its 200 ms turn.
        let before = Instant::now();
        quota.acquire().await.unwrap();
        assert_eq!(before.elapsed(), Duration::from_millis(200));
        let busy = Quota::new(5, 1, Duration::ZERO);
        busy.acquire().await.unwrap();
        assert_eq!(
            busy.acquire().await,
            Err(Busy {
                retry_after: Duration::from_millis(200)
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_quota_refills() {
        let quota = Quota::new(5, 5, Duration::ZERO);
        for _ in 0..5 {
            quota.acquire().await.unwrap();
        }
        assert!(quota.acquire().await.is_err());
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..5 {
            quota.acquire().await.unwrap();
        }
    }
}
