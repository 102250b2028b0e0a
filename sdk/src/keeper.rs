//! The token keeper: holds the checkout token and decides when to refresh it.
//!
//! - Proactive: a timer fires a margin before expiry, counted from when the
//!   token arrived with the lifetime the server reported.
//! - On demand: a call refused with `access_token_expired`, a tab becoming
//!   visible or the machine waking (`check`), a person pressing "retry".
//! - Single flight: however many ask at once, the handler is called once and
//!   every caller gets its outcome; with [`Tabs`], that holds across the tabs
//!   of one checkout too.
//! - A failed refresh backs off (1 s, 2 s, 4 s … 30 s) and the keeper reports
//!   itself expired until one succeeds: no tight loop, ever.
//!
//! Time, timers and tasks come from a [`Platform`], so all of this is tested
//! natively with simulated time.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{self, FutureExt, LocalBoxFuture, Shared};

use crate::error::SdkError;
use crate::platform::Platform;
use crate::schedule::{refresh_delay, retry_delay};
use crate::tabs::{TabNews, Tabs, Turn, NEWS_GRACE};
use crate::types::AccessToken;

/// Asks the merchant's server for a new checkout token. An error is a
/// sentence for the person at the page.
pub type ExpiryHandler = Rc<dyn Fn() -> LocalBoxFuture<'static, Result<AccessToken, String>>>;

/// Told whenever the token's state changes (never the token itself).
pub type StateListener = Rc<dyn Fn(&TokenState)>;

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
    /// How long the last refresh this tab made took, from its start (e.g.
    /// the timer firing) to the new token being in use: the handler's round
    /// trip plus any wait for another tab's turn.
    pub last_refresh_took: Option<Duration>,
}

type Flight = Shared<LocalBoxFuture<'static, Result<(), SdkError>>>;

/// Another tab's failed refresh: its message, and when it tries again.
type Heard = (String, Option<Duration>);

pub struct Keeper<P: Platform> {
    platform: P,
    handler: Option<ExpiryHandler>,
    margin: Duration,
    listener: Option<StateListener>,
    tabs: Option<Rc<dyn Tabs>>,
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
    last_refresh_took: Option<Duration>,
    /// When the flight under way began.
    flight_started: Duration,
    failures: u32,
    last_error: Option<SdkError>,
    retry_at: Option<Duration>,
    timer: Option<P::Timer>,
    flight: Option<Flight>,
    /// Counts token changes, so a flight can tell that another tab's token
    /// arrived while it waited for its turn.
    generation: u64,
    /// Another tab's refresh failed while this tab's flight waited.
    /// Another tab's failure, and when it will try again.
    heard_failure: Option<Heard>,
    /// Wakes a flight waiting for another tab's news.
    news_waiter: Option<oneshot::Sender<()>>,
}

/// What a keeper is built with, besides its platform and first token.
pub struct KeeperOptions {
    pub handler: Option<ExpiryHandler>,
    pub margin: Duration,
    pub listener: Option<StateListener>,
    pub tabs: Option<Rc<dyn Tabs>>,
}

impl<P: Platform> Keeper<P> {
    pub fn new(platform: P, token: AccessToken, options: KeeperOptions) -> Rc<Self> {
        let KeeperOptions {
            handler,
            margin,
            listener,
            tabs,
        } = options;
        let now = platform.now();
        let keeper = Rc::new(Self {
            state: RefCell::new(State {
                deadline: now + token.expires_in,
                refresh_at: now + refresh_delay(token.expires_in, margin),
                token: token.token,
                refresh_count: 0,
                last_reason: None,
                last_refresh_took: None,
                flight_started: Duration::ZERO,
                failures: 0,
                last_error: None,
                retry_at: None,
                timer: None,
                flight: None,
                generation: 0,
                heard_failure: None,
                news_waiter: None,
            }),
            platform,
            handler,
            margin,
            listener,
            tabs,
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
            last_refresh_took: state.last_refresh_took,
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
        let generation = self.state.borrow().generation;
        let flight = fly(
            Rc::downgrade(self),
            handler,
            self.tabs.clone(),
            generation,
            reason,
        )
        .boxed_local()
        .shared();
        {
            let mut state = self.state.borrow_mut();
            state.flight = Some(flight.clone());
            state.flight_started = self.platform.now();
            state.heard_failure = None;
        }
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

    /// News from another tab of this checkout.
    pub fn hear(self: &Rc<Self>, news: TabNews) {
        match news {
            TabNews::Refreshed {
                token,
                expires_in_ms,
            } => self.adopt(AccessToken {
                token,
                expires_in: Duration::from_millis(expires_in_ms),
            }),
            TabNews::Failed {
                message,
                retry_in_ms,
            } => {
                let retry_in = retry_in_ms.map(Duration::from_millis);
                let mut state = self.state.borrow_mut();
                if state.flight.is_some() {
                    // A flight waiting its turn takes this outcome as its own.
                    state.heard_failure = Some((message, retry_in));
                } else if let (true, Some(retry_in)) = (state.last_error.is_some(), retry_in) {
                    // Failing too, between tries: try again with the teller,
                    // so the next try is one call for the checkout, not one
                    // per tab. A tab whose token is fine keeps its schedule.
                    state.retry_at = Some(self.platform.now() + retry_in);
                    drop(state);
                    self.arm();
                    self.notify();
                }
            }
        }
        if let Some(waiter) = self.state.borrow_mut().news_waiter.take() {
            let _ = waiter.send(());
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
            state.generation += 1;
            state.last_reason = Some(RefreshReason::Tab);
            state.failures = 0;
            state.last_error = None;
            state.retry_at = None;
        }
        self.arm();
        self.notify();
    }

    /// `retry_in`: when to try again after a failure, if already chosen
    /// (told to the other tabs, or told by one); else chosen here.
    fn finish(
        self: &Rc<Self>,
        result: Result<AccessToken, String>,
        reason: RefreshReason,
        retry_in: Option<Duration>,
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
                    state.generation += 1;
                    state.last_reason = Some(reason);
                    state.last_refresh_took = Some(now.saturating_sub(state.flight_started));
                    state.failures = 0;
                    state.last_error = None;
                    state.retry_at = None;
                    Ok(())
                }
                Err(message) => {
                    let error = SdkError::RefreshFailed(message);
                    state.failures += 1;
                    state.last_error = Some(error.clone());
                    let delay = retry_in
                        .unwrap_or_else(|| retry_delay(state.failures, self.platform.random()));
                    state.retry_at = Some(now + delay);
                    Err(error)
                }
            }
        };
        self.arm();
        self.notify();
        outcome
    }

    /// What another tab's refresh brought since this flight began, if anything.
    /// `Ok`: its token, already adopted; `Err`: its failure, and when it
    /// will try again.
    fn news_since(&self, generation: u64) -> Option<Result<(), Heard>> {
        let mut state = self.state.borrow_mut();
        if state.generation != generation {
            return Some(Ok(()));
        }
        state.heard_failure.take().map(Err)
    }

    /// Resolves at the next news from another tab, or after `grace`.
    fn next_news(&self, grace: Duration) -> LocalBoxFuture<'static, ()> {
        let (waiter, news) = oneshot::channel();
        self.state.borrow_mut().news_waiter = Some(waiter);
        let (wake, timeout) = oneshot::channel::<()>();
        let timer = self.platform.timer(
            grace,
            Box::new(move || {
                let _ = wake.send(());
            }),
        );
        async move {
            future::select(news, timeout).await;
            drop(timer);
        }
        .boxed_local()
    }

    /// Ends a flight with another tab's outcome instead of a handler call.
    fn land(
        self: &Rc<Self>,
        outcome: Result<(), Heard>,
        reason: RefreshReason,
    ) -> Result<(), SdkError> {
        match outcome {
            // The token is in place already (adopted); the flight is over.
            Ok(()) => {
                self.state.borrow_mut().flight = None;
                self.notify();
                Ok(())
            }
            Err((message, retry_in)) => self.finish(Err(message), reason, retry_in),
        }
    }

    /// When this tab tries again if the refresh under way fails now.
    fn next_retry_in(&self) -> Duration {
        retry_delay(self.state.borrow().failures + 1, self.platform.random())
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

/// One refresh: wait for this tab's turn, take another tab's outcome if one
/// came meanwhile, else ask the handler and tell the other tabs. Holds the
/// keeper weakly: the page may go away at any await.
async fn fly<P: Platform>(
    keeper: Weak<Keeper<P>>,
    handler: ExpiryHandler,
    tabs: Option<Rc<dyn Tabs>>,
    generation: u64,
    reason: RefreshReason,
) -> Result<(), SdkError> {
    let turn = match &tabs {
        Some(tabs) => tabs.turn().await,
        None => Turn::alone(),
    };
    let wait = {
        let Some(keeper) = keeper.upgrade() else {
            return Ok(());
        };
        if let Some(outcome) = keeper.news_since(generation) {
            return keeper.land(outcome, reason);
        }
        // The tab before us has just finished; its news was posted before
        // it let go of the turn, and is at most a message away.
        turn.waited.then(|| keeper.next_news(NEWS_GRACE))
    };
    if let Some(wait) = wait {
        wait.await;
        let Some(keeper) = keeper.upgrade() else {
            return Ok(());
        };
        if let Some(outcome) = keeper.news_since(generation) {
            return keeper.land(outcome, reason);
        }
    }
    let result = handler().await;
    let keeper = keeper.upgrade();
    // A failure's next try is chosen now, so the other tabs can keep to it.
    let retry_in = match (&result, &keeper) {
        (Err(_), Some(keeper)) => Some(keeper.next_retry_in()),
        _ => None,
    };
    if let Some(tabs) = &tabs {
        tabs.tell(&match &result {
            Ok(token) => TabNews::refreshed(token),
            Err(message) => TabNews::Failed {
                message: message.clone(),
                retry_in_ms: retry_in.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            },
        });
    }
    drop(turn);
    let Some(keeper) = keeper else {
        return Ok(());
    };
    keeper.finish(result, reason, retry_in)
}

#[cfg(test)]
mod tests;
