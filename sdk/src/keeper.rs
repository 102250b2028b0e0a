//! The token keeper: holds the checkout token and decides when to refresh it.
//!
//! - Proactive: a timer fires a margin before expiry, counted from when the
//!   token arrived with the lifetime the server reported.
//! - On demand: a call refused with `access_token_expired`, a tab becoming
//!   visible or the machine waking (`check`), a person pressing "retry".
//! - Single flight: however many ask at once, the handler is called once and
//!   every caller gets its outcome.
//! - A failed refresh backs off (1 s, 2 s, 4 s … 30 s) and the keeper reports
//!   itself expired until one succeeds: no tight loop, ever.
//!
//! Time, timers and tasks come from a [`Platform`], so all of this is tested
//! natively with simulated time.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures::future::{FutureExt, LocalBoxFuture, Shared};

use crate::error::SdkError;
use crate::platform::Platform;
use crate::schedule::refresh_delay;
use crate::types::AccessToken;

/// Asks the merchant's server for a new checkout token. An error is a
/// sentence for the person at the page.
pub type ExpiryHandler = Rc<dyn Fn() -> LocalBoxFuture<'static, Result<AccessToken, String>>>;

/// Why the token was (or was to be) refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshReason {
    /// The timer fired a margin before expiry.
    Timer,
    /// The vendor answered `access_token_expired`.
    Expired,
    /// Another tab of the same checkout refreshed and shared its token.
    Tab,
    /// The tab became visible, got focus or came back online.
    Visibility,
    /// The page asked (e.g. a "retry" button).
    Manual,
}

/// Where the token stands, for a page that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    Valid,
    Refreshing,
    /// The last refresh failed; the next automatic try is `retry_in` away.
    Expired {
        error: SdkError,
        retry_in: Option<Duration>,
    },
}

/// A snapshot for the page: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    pub status: TokenStatus,
    /// Lifetime left, by this tab's monotonic clock.
    pub expires_in: Duration,
    pub refresh_count: u32,
    pub last_reason: Option<RefreshReason>,
}

/// Failed refreshes are retried automatically this many times (1+2+4+8+16 s
/// of waiting in all); after that only an event or the page asks again.
const MAX_AUTOMATIC_RETRIES: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

type Flight = Shared<LocalBoxFuture<'static, Result<(), SdkError>>>;

pub struct Keeper<P: Platform> {
    platform: P,
    handler: Option<ExpiryHandler>,
    margin: Duration,
    listener: Option<Rc<dyn Fn(&TokenState)>>,
    state: RefCell<State<P>>,
}

struct State<P: Platform> {
    token: String,
    /// When the token expires, on the platform's clock.
    deadline: Duration,
    /// When it should be refreshed, on the platform's clock.
    refresh_at: Duration,
    refresh_count: u32,
    last_reason: Option<RefreshReason>,
    failures: u32,
    last_error: Option<SdkError>,
    retry_at: Option<Duration>,
    timer: Option<P::Timer>,
    flight: Option<Flight>,
}

impl<P: Platform> Keeper<P> {
    pub fn new(
        platform: P,
        token: AccessToken,
        handler: Option<ExpiryHandler>,
        margin: Duration,
        listener: Option<Rc<dyn Fn(&TokenState)>>,
    ) -> Rc<Self> {
        let now = platform.now();
        let keeper = Rc::new(Self {
            state: RefCell::new(State {
                deadline: now + token.expires_in,
                refresh_at: now + refresh_delay(token.expires_in, margin),
                token: token.token,
                refresh_count: 0,
                last_reason: None,
                failures: 0,
                last_error: None,
                retry_at: None,
                timer: None,
                flight: None,
            }),
            platform,
            handler,
            margin,
            listener,
        });
        keeper.arm();
        keeper
    }

    pub fn token(&self) -> String {
        self.state.borrow().token.clone()
    }

    pub fn has_handler(&self) -> bool {
        self.handler.is_some()
    }

    pub fn snapshot(&self) -> TokenState {
        let state = self.state.borrow();
        let now = self.platform.now();
        let status = if state.flight.is_some() {
            TokenStatus::Refreshing
        } else if let Some(error) = &state.last_error {
            TokenStatus::Expired {
                error: error.clone(),
                retry_in: state.retry_at.map(|at| at.saturating_sub(now)),
            }
        } else {
            TokenStatus::Valid
        };
        TokenState {
            status,
            expires_in: state.deadline.saturating_sub(now),
            refresh_count: state.refresh_count,
            last_reason: state.last_reason,
        }
    }

    /// Refreshes now, or joins the refresh already under way.
    pub fn refresh(
        self: &Rc<Self>,
        reason: RefreshReason,
    ) -> LocalBoxFuture<'static, Result<(), SdkError>> {
        let Some(handler) = self.handler.clone() else {
            return async { Err(SdkError::AccessTokenExpired) }.boxed_local();
        };
        if let Some(flight) = self.state.borrow().flight.clone() {
            return flight.boxed_local();
        }
        let weak = Rc::downgrade(self);
        let flight = async move {
            let result = handler().await;
            // The page may have gone away while the handler ran.
            let Some(keeper) = weak.upgrade() else {
                return Ok(());
            };
            keeper.finish(result, reason)
        }
        .boxed_local()
        .shared();
        self.state.borrow_mut().flight = Some(flight.clone());
        self.notify();
        flight.boxed_local()
    }

    /// Refreshes at once if the token is due (or a backed-off retry is),
    /// e.g. after the tab was hidden and its timers throttled.
    pub fn check(self: &Rc<Self>, reason: RefreshReason) {
        let now = self.platform.now();
        let due = {
            let state = self.state.borrow();
            let waiting_out_backoff = state.retry_at.is_some_and(|at| now < at);
            state.flight.is_none() && !waiting_out_backoff && now >= state.refresh_at
        };
        if due && self.handler.is_some() {
            self.platform
                .spawn(self.refresh(reason).map(|_| ()).boxed_local());
        }
    }

    /// Takes a token another tab refreshed, if it outlives ours.
    pub fn adopt(self: &Rc<Self>, token: AccessToken) {
        let now = self.platform.now();
        {
            let mut state = self.state.borrow_mut();
            // Only a longer-lived token is worth taking (it may be the same
            // token: then only our estimate of its life grows).
            if now + token.expires_in <= state.deadline {
                return;
            }
            state.token = token.token;
            state.deadline = now + token.expires_in;
            state.refresh_at = now + refresh_delay(token.expires_in, self.margin);
            state.refresh_count += 1;
            state.last_reason = Some(RefreshReason::Tab);
            state.failures = 0;
            state.last_error = None;
            state.retry_at = None;
        }
        self.arm();
        self.notify();
    }

    fn finish(
        self: &Rc<Self>,
        result: Result<AccessToken, String>,
        reason: RefreshReason,
    ) -> Result<(), SdkError> {
        let now = self.platform.now();
        let outcome = {
            let mut state = self.state.borrow_mut();
            state.flight = None;
            match result {
                Ok(token) => {
                    state.token = token.token;
                    state.deadline = now + token.expires_in;
                    state.refresh_at = now + refresh_delay(token.expires_in, self.margin);
                    state.refresh_count += 1;
                    state.last_reason = Some(reason);
                    state.failures = 0;
                    state.last_error = None;
                    state.retry_at = None;
                    Ok(())
                }
                Err(message) => {
                    let error = SdkError::RefreshFailed(message);
                    state.failures += 1;
                    state.last_error = Some(error.clone());
                    state.retry_at = (state.failures <= MAX_AUTOMATIC_RETRIES)
                        .then(|| now + backoff(state.failures));
                    Err(error)
                }
            }
        };
        self.arm();
        self.notify();
        outcome
    }

    /// Sets the one timer: at the refresh point, or at the next retry after
    /// a failure; none when there is nothing to wait for.
    fn arm(self: &Rc<Self>) {
        if self.handler.is_none() {
            return;
        }
        let now = self.platform.now();
        let at = {
            let state = self.state.borrow();
            if state.last_error.is_some() {
                state.retry_at
            } else {
                Some(state.refresh_at)
            }
        };
        let timer = at.map(|at| {
            let weak: Weak<Self> = Rc::downgrade(self);
            self.platform.timer(
                at.saturating_sub(now),
                Box::new(move || {
                    if let Some(keeper) = weak.upgrade() {
                        let task = keeper
                            .refresh(RefreshReason::Timer)
                            .map(|_| ())
                            .boxed_local();
                        keeper.platform.spawn(task);
                    }
                }),
            )
        });
        // Replacing the old timer drops, and so cancels, it.
        self.state.borrow_mut().timer = timer;
    }

    fn notify(&self) {
        if let Some(listener) = &self.listener {
            listener(&self.snapshot());
        }
    }
}

/// 1 s, 2 s, 4 s, … capped at 30 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(5)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests;
