//! The keeper's own state, behind its one `RefCell`: the token and its
//! deadlines, the flight under way, failures and their retry, what other
//! tabs said, and the page's activity. Only the keeper's methods (in
//! `keeper.rs` and its parts) change it.

use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{LocalBoxFuture, Shared};

use super::{pace, ExpiryHandler, RefreshReason};
use crate::error::{RefreshError, SdkError};
use crate::platform::Platform;
use crate::schedule::refresh_delay;
use crate::types::AccessToken;

pub(super) type Flight = Shared<LocalBoxFuture<'static, Result<(), SdkError>>>;

/// Another tab's failed refresh, and when it tries again.
pub(super) type Heard = (RefreshError, Option<Duration>);

pub(super) struct State<P: Platform> {
    pub(super) token: String,
    /// When the token expires, on the platform's clock.
    pub(super) deadline: Duration,
    /// When it should be refreshed, on the platform's clock.
    pub(super) refresh_at: Duration,
    pub(super) refresh_count: u32,
    pub(super) last_reason: Option<RefreshReason>,
    pub(super) last_refresh_took: Option<Duration>,
    /// When the flight under way began.
    pub(super) flight_started: Duration,
    pub(super) failures: u32,
    pub(super) last_error: Option<SdkError>,
    pub(super) retry_at: Option<Duration>,
    pub(super) timer: Option<P::Timer>,
    pub(super) flight: Option<Flight>,
    /// Counts token changes, so a flight can tell that another tab's token
    /// arrived while it waited for its turn.
    pub(super) generation: u64,
    /// Another tab's refresh failed while this tab's flight waited.
    /// Another tab's failure, and when it will try again.
    pub(super) heard_failure: Option<Heard>,
    /// Wakes a flight waiting for another tab's news.
    pub(super) news_waiter: Option<oneshot::Sender<()>>,
    /// Until the first token arrives: what asks for it (then `handler`
    /// takes over, if there is one).
    pub(super) opener: Option<ExpiryHandler>,
    /// Told when the first token arrives, or it is refused for good.
    pub(super) open_waiters: Vec<oneshot::Sender<Result<(), SdkError>>>,
    pub(super) pace: pace::Pace,
    /// The page is hidden (as last told: [`Keeper::visibility`]).
    pub(super) hidden: bool,
    /// The last sign of the person: input, or the page shown or hidden.
    pub(super) last_active: Duration,
    /// The timer found the page idle and rests (see `idle`).
    pub(super) idle: bool,
}

impl<P: Platform> State<P> {
    /// Puts a new token in place: its deadline and refresh point count from
    /// now (the refresh no sooner than `min_interval`), and any failure is
    /// over.
    pub(super) fn take(
        &mut self,
        token: AccessToken,
        now: Duration,
        margin: Duration,
        min_interval: Duration,
    ) {
        self.token = token.token;
        self.deadline = now + token.expires_in;
        self.refresh_at = now + refresh_delay(token.expires_in, margin).max(min_interval);
        self.generation += 1;
        self.failures = 0;
        self.last_error = None;
        self.retry_at = None;
    }
}
