//! What the keeper tells: why a refresh is asked for (to the handler), and
//! where the token stands (to the page) — never the token itself.

use std::rc::Rc;
use std::time::Duration;

use crate::error::SdkError;

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
    /// The first token, for [`Keeper::connect`](super::Keeper::connect).
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
