//! News from the other tabs of one checkout: a token one of them refreshed
//! (adopted if it outlives this tab's), or a refresh that failed (shared,
//! so the tabs try again together, or stop together).

use std::rc::Rc;
use std::time::Duration;

use super::{Keeper, RefreshReason};
use crate::error::{RefreshError, StopReason};
use crate::platform::Platform;
use crate::tabs::TabNews;
use crate::types::AccessToken;

impl<P: Platform> Keeper<P> {
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
}
