//! "Now", injected: every expiry decision in the sandbox asks a [`Clock`], so
//! tests move time instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch: the unit of JWT `exp`/`iat` (RFC 7519 §2).
pub type UnixSeconds = u64;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch: rate limits need finer time than tokens.
    fn now_millis(&self) -> u64;

    fn now(&self) -> UnixSeconds {
        self.now_millis() / 1000
    }
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Another clock, a fixed number of milliseconds ahead (or behind): a
/// vendor whose clock is off, for the clock-skew drills
/// (`SANDBOX_CLOCK_OFFSET_SECS`).
#[derive(Debug, Clone)]
pub struct SkewedClock<C> {
    pub inner: C,
    pub offset_millis: i64,
}

impl<C: Clock> Clock for SkewedClock<C> {
    fn now_millis(&self) -> u64 {
        self.inner
            .now_millis()
            .saturating_add_signed(self.offset_millis)
    }
}

/// A clock that only moves when told to; shared by cloning.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn starting_at(now: UnixSeconds) -> Self {
        Self(Arc::new(AtomicU64::new(now * 1000)))
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How far a test harness has moved the sandbox's clock forward at run time
/// (`POST /sandbox/clock`), in milliseconds; shared by cloning.
///
/// Forward only: every expiry, rate-limit window and key rotation in the
/// sandbox assumes time does not run backwards, and a harness that wants an
/// earlier "now" restarts the sandbox instead.
#[derive(Debug, Clone, Default)]
pub struct ClockShift(Arc<AtomicU64>);

impl ClockShift {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Another clock, moved forward by a [`ClockShift`].
#[derive(Debug, Clone)]
pub struct ShiftedClock<C> {
    pub inner: C,
    pub shift: ClockShift,
}

impl<C: Clock> Clock for ShiftedClock<C> {
    fn now_millis(&self) -> u64 {
        self.inner.now_millis().saturating_add(self.shift.millis())
    }
}
