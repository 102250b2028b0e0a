//! The calls' side of the keeper: what the SDK asks before and after a
//! vendor call (is the token usable, near its end, refused again), the
//! expiry reported without a handler, and the browser coming back online.

use std::rc::{Rc, Weak};
use std::time::Duration;

use futures::future::FutureExt;

use super::{Keeper, RefreshReason};
use crate::error::{RefreshError, SdkError};
use crate::platform::Platform;

impl<P: Platform> Keeper<P> {
    /// The browser is online again: a transient failure's backoff is cut
    /// short, once (the tabs of a checkout all hear `online` together, and
    /// their flights share one call through the usual turn and news).
    /// Otherwise the same as [`Keeper::check`].
    pub fn back_online(self: &Rc<Self>) {
        let now = self.platform.now();
        let cut_short = {
            let state = self.state.borrow();
            state.flight.is_none()
                && state
                    .last_error
                    .as_ref()
                    .is_some_and(SdkError::is_transient)
                && state.retry_at.is_some_and(|at| now < at)
        };
        if cut_short && self.has_handler() {
            self.platform.spawn(
                self.refresh(RefreshReason::Visibility)
                    .map(|_| ())
                    .boxed_local(),
            );
        } else {
            self.check(RefreshReason::Visibility);
        }
    }

    /// Without a handler: a timer at the token's expiry that reports it.
    pub(super) fn arm_expiry(self: &Rc<Self>) {
        let now = self.platform.now();
        let deadline = {
            let state = self.state.borrow();
            if state.last_error.is_some() {
                return;
            }
            state.deadline
        };
        let weak: Weak<Self> = Rc::downgrade(self);
        let timer = self.platform.timer(
            deadline.saturating_sub(now),
            Box::new(move || {
                if let Some(keeper) = weak.upgrade() {
                    keeper.expire_unhandled();
                }
            }),
        );
        self.state.borrow_mut().timer = Some(timer);
    }

    /// The token has expired and nothing can renew it: reported once, and
    /// every later call fails the same way ([`Keeper::unusable`]).
    pub(super) fn expire_unhandled(&self) {
        {
            let mut state = self.state.borrow_mut();
            if state.last_error.is_some() {
                return;
            }
            state.last_error = Some(SdkError::AccessTokenExpired);
            state.retry_at = None;
            state.timer = None;
        }
        self.notify();
    }

    /// Why no call should go out at all: the token expired and there is no
    /// handler to renew it.
    pub fn unusable(&self) -> Option<SdkError> {
        if self.has_handler() {
            return None;
        }
        self.state.borrow().last_error.clone()
    }

    /// Whether the token is too near its end to carry a call that must not
    /// fail for it (a payment): past its refresh point, or under
    /// `least_left` from expiry.
    pub fn near_end(&self, least_left: Duration) -> bool {
        let now = self.platform.now();
        let state = self.state.borrow();
        now >= state.refresh_at || state.deadline.saturating_sub(now) < least_left
    }

    /// The vendor refused `token` right after a refresh brought it: that is
    /// a failed refresh (backed off, reported), not an expiry to report to
    /// the page as [`SdkError::AccessTokenExpired`].
    pub fn refused(self: &Rc<Self>, token: &str) -> SdkError {
        let current = {
            let state = self.state.borrow();
            state.flight.is_none() && state.token == token
        };
        let error = RefreshError::transient("the payment provider refused the new token too");
        if current {
            if let Err(error) = self.finish(Err(error.clone()), RefreshReason::Expired, None) {
                return error;
            }
        }
        SdkError::from(error)
    }
}
