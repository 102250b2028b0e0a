//! The token keeper: holds the checkout token and decides when to refresh it.
//!
//! - Proactive: a timer fires a margin before expiry, counted from when the
//!   token arrived with the lifetime the server reported.
//! - On demand: a call refused with `access_token_expired`, a tab becoming
//!   visible or the machine waking (`check`), a person pressing "retry".
//! - Single flight: however many ask at once, the handler is called once and
//!   every caller gets its outcome; with [`Tabs`], that holds across the tabs
//!   of one checkout too.
//! - A failed refresh backs off (1 s, 2 s, 4 s … then every 30–60 s) and the
//!   keeper reports itself expired until one succeeds: no tight loop, ever.
//!   A refusal that will not pass ([`RefreshError::stop`]) stops the timers.
//! - Paced (`pace`): the timer never refreshes sooner than a floor after a
//!   token arrived, and refreshes that succeed too often back off as if
//!   they had failed — a token that lives a second cannot make a loop.
//! - Without a handler, its own timer reports `AccessTokenExpired` at
//!   expiry, as the vendor's SDK does, with no call needed to find out.
//! - Opening ([`Keeper::connect`]): the first token comes through the same
//!   flight, backoff and tab sharing as every later one.
//!
//! Time, timers and tasks come from a [`Platform`], so all of this is tested
//! natively with simulated time.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{self, FutureExt, LocalBoxFuture, Shared};

use crate::error::{RefreshError, SdkError, StopReason};
use crate::platform::Platform;
use crate::schedule::{refresh_delay, retry_delay};
use crate::tabs::{TabNews, Tabs};
use crate::types::AccessToken;

mod calls;
mod flight;
mod idle;
mod pace;

pub use idle::DEFAULT_IDLE_AFTER;
pub use pace::{DEFAULT_MIN_REFRESH_INTERVAL, THROTTLE_LIMIT, THROTTLE_WINDOW};

/// Asks the merchant's server for a new checkout token.
pub type ExpiryHandler =
    Rc<dyn Fn(RefreshContext) -> LocalBoxFuture<'static, Result<AccessToken, RefreshError>>>;

/// What the handler is told about the refresh it is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshContext {
    pub reason: RefreshReason,
    /// 1 for a first try, 2 after one failure, and so on.
    pub attempt: u32,
    /// The id (`jti`) of the token the vendor refused, when `reason` is
    /// [`RefreshReason::Expired`]: the server must not hand that one out
    /// again (it may still have it, with life left by its own count).
    pub refused_token_id: Option<String>,
}

/// Told whenever the token's state changes (never the token itself).
pub type StateListener = Rc<dyn Fn(&TokenState)>;

/// Why the token was (or was to be) refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshReason {
    /// The first token, for [`Keeper::connect`].
    Opening,
    /// The timer fired a margin before expiry.
    Timer,
    /// The vendor answered `access_token_expired`.
    Expired,
    /// Another tab of the same checkout refreshed and shared its token.
    Tab,
    /// A wake-up: the tab became visible, got focus, came back online, was
    /// restored from the back/forward cache or resumed after being frozen.
    Visibility,
    /// The page asked (e.g. a "retry" button).
    Manual,
    /// A payment is about to go out with a token near its end.
    Payment,
}

/// Where the token stands, for a page that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    Valid,
    Refreshing,
    /// The last refresh failed; the next automatic try is `retry_in` away
    /// (none after a refusal that will not pass: [`SdkError::RefreshRefused`];
    /// none without a handler: [`SdkError::AccessTokenExpired`]).
    Expired {
        error: SdkError,
        retry_in: Option<Duration>,
    },
}

/// A snapshot for the page: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    pub status: TokenStatus,
    /// A first token has arrived (always, for a keeper built with one).
    pub opened: bool,
    /// Lifetime left, by this tab's monotonic clock.
    pub expires_in: Duration,
    pub refresh_count: u32,
    pub last_reason: Option<RefreshReason>,
    /// How long the last refresh this tab made took, from its start (e.g.
    /// the timer firing) to the new token being in use: the handler's round
    /// trip plus any wait for another tab's turn.
    pub last_refresh_took: Option<Duration>,
    /// Idle (`idle`): hidden with no input for a while, the timer rests
    /// until the person is back.
    pub idle: bool,
}

type Flight = Shared<LocalBoxFuture<'static, Result<(), SdkError>>>;

/// Another tab's failed refresh, and when it tries again.
type Heard = (RefreshError, Option<Duration>);

pub struct Keeper<P: Platform> {
    platform: P,
    handler: Option<ExpiryHandler>,
    margin: Duration,
    min_interval: Duration,
    idle_after: Option<Duration>,
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
    /// Until the first token arrives: what asks for it (then `handler`
    /// takes over, if there is one).
    opener: Option<ExpiryHandler>,
    /// Told when the first token arrives, or it is refused for good.
    open_waiters: Vec<oneshot::Sender<Result<(), SdkError>>>,
    pace: pace::Pace,
    /// The page is hidden (as last told: [`Keeper::visibility`]).
    hidden: bool,
    /// The last sign of the person: input, or the page shown or hidden.
    last_active: Duration,
    /// The timer found the page idle and rests (see `idle`).
    idle: bool,
}

impl<P: Platform> State<P> {
    /// Puts a new token in place: its deadline and refresh point count from
    /// now (the refresh no sooner than `min_interval`), and any failure is
    /// over.
    fn take(
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

/// What a keeper is built with, besides its platform and first token.
pub struct KeeperOptions {
    pub handler: Option<ExpiryHandler>,
    pub margin: Duration,
    /// See [`DEFAULT_MIN_REFRESH_INTERVAL`].
    pub min_interval: Duration,
    /// See [`DEFAULT_IDLE_AFTER`]; `None`: never idle.
    pub idle_after: Option<Duration>,
    pub listener: Option<StateListener>,
    pub tabs: Option<Rc<dyn Tabs>>,
}

impl<P: Platform> Keeper<P> {
    /// A keeper for a token the page already has.
    pub fn new(platform: P, token: AccessToken, options: KeeperOptions) -> Rc<Self> {
        let keeper = Self::build(platform, token, None, options);
        keeper.arm();
        keeper
    }

    /// A keeper that asks `opener` for its first token at once — retried on
    /// the same backoff, shared with the same tabs, as every later refresh
    /// — and then refreshes with the options' handler (none: the token is
    /// used until it expires). [`Keeper::opened`] says when it has one.
    pub fn connect(platform: P, opener: ExpiryHandler, options: KeeperOptions) -> Rc<Self> {
        let nothing = AccessToken {
            token: String::new(),
            expires_in: Duration::ZERO,
        };
        let keeper = Self::build(platform, nothing, Some(opener), options);
        let first = keeper
            .refresh(RefreshReason::Opening)
            .map(|_| ())
            .boxed_local();
        keeper.platform.spawn(first);
        keeper
    }

    fn build(
        platform: P,
        token: AccessToken,
        opener: Option<ExpiryHandler>,
        options: KeeperOptions,
    ) -> Rc<Self> {
        let KeeperOptions {
            handler,
            margin,
            min_interval,
            idle_after,
            listener,
            tabs,
        } = options;
        let now = platform.now();
        Rc::new(Self {
            state: RefCell::new(State {
                deadline: now + token.expires_in,
                refresh_at: now + refresh_delay(token.expires_in, margin).max(min_interval),
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
                opener,
                open_waiters: Vec::new(),
                pace: pace::Pace::default(),
                hidden: false,
                last_active: now,
                idle: false,
            }),
            platform,
            handler,
            margin,
            min_interval,
            idle_after,
            listener,
            tabs,
        })
    }

    pub fn token(&self) -> String {
        self.state.borrow().token.clone()
    }

    /// Whether the keeper has anything to ask for a token: a handler, or an
    /// opener still waiting for the first one.
    pub fn has_handler(&self) -> bool {
        self.minter().is_some()
    }

    /// What asks for the next token: the opener until the first arrives,
    /// then the handler.
    fn minter(&self) -> Option<ExpiryHandler> {
        let opener = self.state.borrow().opener.clone();
        opener.or_else(|| self.handler.clone())
    }

    /// Resolves once the first token is in (at once for a keeper built with
    /// one), or with the refusal if the opener refused for good. Transient
    /// failures meanwhile are retried, and reported to the listener.
    pub fn opened(&self) -> LocalBoxFuture<'static, Result<(), SdkError>> {
        let mut state = self.state.borrow_mut();
        if state.opener.is_none() {
            return future::ready(Ok(())).boxed_local();
        }
        if let Some(error) = state.last_error.clone().filter(|e| !e.is_transient()) {
            return future::ready(Err(error)).boxed_local();
        }
        let (waiter, outcome) = oneshot::channel();
        state.open_waiters.push(waiter);
        outcome
            .map(|outcome| outcome.unwrap_or(Err(SdkError::AccessTokenExpired)))
            .boxed_local()
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
            opened: state.opener.is_none(),
            expires_in: state.deadline.saturating_sub(now),
            refresh_count: state.refresh_count,
            last_reason: state.last_reason,
            last_refresh_took: state.last_refresh_took,
            idle: state.idle,
        }
    }

    /// Refreshes now, or joins the refresh already under way.
    pub fn refresh(
        self: &Rc<Self>,
        reason: RefreshReason,
    ) -> LocalBoxFuture<'static, Result<(), SdkError>> {
        let Some(handler) = self.minter() else {
            return async { Err(SdkError::AccessTokenExpired) }.boxed_local();
        };
        let context = {
            let state = self.state.borrow();
            if let Some(flight) = state.flight.clone() {
                return flight.boxed_local();
            }
            // A refused call while a failed refresh waits out its backoff
            // gets that failure: clicks cannot hurry the server's recovery.
            let backing_off = state.retry_at.is_some_and(|at| self.platform.now() < at);
            if let (RefreshReason::Expired, true, Some(error)) =
                (reason, backing_off, state.last_error.clone())
            {
                return future::ready(Err(error)).boxed_local();
            }
            RefreshContext {
                reason,
                attempt: state.failures + 1,
                refused_token_id: (reason == RefreshReason::Expired)
                    .then(|| crate::token_id::token_id(&state.token))
                    .flatten(),
            }
        };
        let generation = self.state.borrow().generation;
        let flight = flight::fly(
            Rc::downgrade(self),
            handler,
            context,
            self.tabs.clone(),
            generation,
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
    /// e.g. after the tab was hidden and its timers throttled. Not after a
    /// refusal that will not pass: only the page asking again ends that.
    /// Without a handler, reports an expiry its throttled timer missed.
    pub fn check(self: &Rc<Self>, reason: RefreshReason) {
        let now = self.platform.now();
        if !self.has_handler() {
            if now >= self.state.borrow().deadline {
                self.expire_unhandled();
            }
            return;
        }
        if self.state.borrow().idle {
            // Resting until the person is back (`idle`), not on any event.
            return;
        }
        let due = {
            let state = self.state.borrow();
            let waiting_out_backoff = state.retry_at.is_some_and(|at| now < at);
            let refused = state.last_error.as_ref().is_some_and(|e| !e.is_transient());
            state.flight.is_none() && !waiting_out_backoff && !refused && now >= state.refresh_at
        };
        if due && self.has_handler() {
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
                permanent,
                stop_reason,
            } => {
                let retry_in = retry_in_ms.map(Duration::from_millis);
                let error = if permanent {
                    // A tab of an older build tells no reason.
                    RefreshError::stop(stop_reason.unwrap_or(StopReason::Other), message)
                } else {
                    RefreshError::transient(message)
                };
                let mut state = self.state.borrow_mut();
                if state.flight.is_some() {
                    // A flight waiting its turn takes this outcome as its own.
                    state.heard_failure = Some((error, retry_in));
                } else if permanent {
                    // The teller was refused for good (logged out, paid…):
                    // so would this tab be, at its next refresh. Stop with
                    // it now, even with a token left: the checkout is over
                    // in every tab at once.
                    drop(state);
                    let _ = self.finish(Err(error), RefreshReason::Tab, None);
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
            state.take(token, now, self.margin, self.min_interval);
            if state.opener.take().is_none() {
                state.refresh_count += 1;
                state.last_reason = Some(RefreshReason::Tab);
            }
        }
        self.arm();
        self.notify();
        self.tell_opened(Ok(()));
    }

    /// Tells whoever waits in [`Keeper::opened`].
    fn tell_opened(&self, outcome: Result<(), SdkError>) {
        let waiters = std::mem::take(&mut self.state.borrow_mut().open_waiters);
        for waiter in waiters {
            let _ = waiter.send(outcome.clone());
        }
    }

    /// `retry_in`: when to try again after a failure, if already chosen
    /// (told to the other tabs, or told by one); else chosen here.
    fn finish(
        self: &Rc<Self>,
        result: Result<AccessToken, RefreshError>,
        reason: RefreshReason,
        retry_in: Option<Duration>,
    ) -> Result<(), SdkError> {
        let now = self.platform.now();
        let (outcome, opened) = {
            let mut state = self.state.borrow_mut();
            state.flight = None;
            let opening = state.opener.is_some();
            match result {
                Ok(token) => {
                    state.take(token, now, self.margin, self.min_interval);
                    state.opener = None;
                    // The first token is no refresh: the counts start after it.
                    if !opening {
                        state.refresh_count += 1;
                        state.last_reason = Some(reason);
                        state.last_refresh_took = Some(now.saturating_sub(state.flight_started));
                    }
                    // Too many in a row, too fast: the next one waits as
                    // after that many failures.
                    if let Some(throttled) = state.pace.succeeded(now) {
                        let backoff = retry_delay(throttled, self.platform.random());
                        state.refresh_at = state.refresh_at.max(now + backoff);
                    }
                    (Ok(()), opening.then_some(Ok(())))
                }
                Err(refusal) => {
                    let transient = refusal.is_transient();
                    let not_before = refusal.retry_after().unwrap_or_default();
                    let error = SdkError::from(refusal);
                    state.failures += 1;
                    state.last_error = Some(error.clone());
                    let failures = state.failures;
                    state.retry_at = transient.then(|| {
                        let backoff = retry_in
                            .unwrap_or_else(|| retry_delay(failures, self.platform.random()));
                        now + backoff.max(not_before)
                    });
                    let opened = (opening && !transient).then(|| Err(error.clone()));
                    (Err(error), opened)
                }
            }
        };
        self.arm();
        self.notify();
        if let Some(opened) = opened {
            self.tell_opened(opened);
        }
        outcome
    }

    /// Sets the one timer: at the refresh point, or at the next retry after
    /// a failure, or (without a handler) at expiry; none when there is
    /// nothing to wait for (a refusal that will not pass, or an expiry
    /// already reported).
    fn arm(self: &Rc<Self>) {
        if !self.has_handler() {
            return self.arm_expiry();
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
                        if keeper.goes_idle() {
                            return;
                        }
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

#[cfg(test)]
mod tests;
