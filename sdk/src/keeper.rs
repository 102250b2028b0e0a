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
use futures::future::{self, FutureExt, LocalBoxFuture};

use crate::error::{RefreshError, SdkError};
use crate::platform::Platform;
use crate::schedule::{refresh_delay, retry_delay};
use crate::tabs::Tabs;
use crate::types::AccessToken;

mod calls;
mod flight;
mod idle;
mod news;
mod pace;
mod state;
mod status;

pub use idle::DEFAULT_IDLE_AFTER;
pub use pace::{DEFAULT_MIN_REFRESH_INTERVAL, THROTTLE_LIMIT, THROTTLE_WINDOW};
use state::State;
pub use status::{RefreshContext, RefreshReason, StateListener, TokenState, TokenStatus};

/// Asks the merchant's server for a new checkout token.
pub type ExpiryHandler =
    Rc<dyn Fn(RefreshContext) -> LocalBoxFuture<'static, Result<AccessToken, RefreshError>>>;

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
