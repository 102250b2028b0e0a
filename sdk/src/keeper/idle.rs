//! Idle pages: a tab left hidden with no input stops refreshing on its
//! timer, so a forgotten checkout neither keeps the session alive forever
//! nor spends the vendor's quota (5 token requests a second per API key).
//! Its first sign of life — visible again, focus, a key or a pointer —
//! brings it back: it refreshes at once if its token is due. A call the
//! vendor refuses (`401`) is still handled as ever: only the timer rests.

use std::rc::Rc;
use std::time::Duration;

use super::{Keeper, RefreshReason};
use crate::platform::Platform;

/// By default a page hidden, with no input, for this long goes idle: longer
/// than a person takes to look something up in another tab, shorter than
/// the merchant's session (8 hours), which a page that never rests would
/// keep alive for as long as the tab stays open.
pub const DEFAULT_IDLE_AFTER: Duration = Duration::from_secs(30 * 60);

impl<P: Platform> Keeper<P> {
    /// The page became hidden or visible (`visibilitychange`). Either way
    /// the person was there a moment ago; visible again ends idleness.
    pub fn visibility(self: &Rc<Self>, hidden: bool) {
        {
            let mut state = self.state.borrow_mut();
            state.hidden = hidden;
            state.last_active = self.platform.now();
        }
        if !hidden {
            self.wake_from_idle();
        }
    }

    /// Input (a key, a pointer, focus): the person is here.
    pub fn active(self: &Rc<Self>) {
        self.state.borrow_mut().last_active = self.platform.now();
        self.wake_from_idle();
    }

    /// Whether the timer that just fired should rest instead of refreshing:
    /// the page has been hidden, with no input, for the idle time. If so,
    /// the keeper is idle from now until the person is back.
    pub(super) fn goes_idle(&self) -> bool {
        let Some(idle_after) = self.idle_after else {
            return false;
        };
        let now = self.platform.now();
        let idle = {
            let mut state = self.state.borrow_mut();
            state.idle = state.hidden && now.saturating_sub(state.last_active) >= idle_after;
            state.idle
        };
        if idle {
            self.notify();
        }
        idle
    }

    fn wake_from_idle(self: &Rc<Self>) {
        let was_idle = std::mem::take(&mut self.state.borrow_mut().idle);
        if was_idle {
            self.notify();
            // Due by now (the timer fired while idle): refresh; else wait
            // for the timer again.
            self.check(RefreshReason::Visibility);
            if self.state.borrow().flight.is_none() {
                self.arm();
            }
        }
    }
}
