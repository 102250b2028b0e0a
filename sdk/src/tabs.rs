//! Tabs open on the same checkout refresh one at a time and share the
//! outcome, so N tabs due at the same moment make one call to the merchant's
//! server, not N.
//!
//! Two mechanisms, because neither is enough alone: a cross-tab lock (the
//! Web Locks API in the browser) decides who refreshes, and a message
//! (`BroadcastChannel`) carries the outcome to the others. The lock is
//! released only after the message is posted, but nothing orders its
//! delivery before the next tab's lock grant, so a tab that had to wait for
//! the lock also waits a short grace for the news before refreshing itself.
//! Tokens live only in memory: never in `localStorage`, where any script of
//! the origin could read them long after the page is gone.

use std::time::Duration;

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use crate::error::StopReason;
use crate::types::AccessToken;

/// How long a tab that waited for the lock waits for the holder's news. The
/// news was posted before the lock was released, so it is normally already
/// there; the grace only matters if the other tab closed mid-refresh.
pub const NEWS_GRACE: Duration = Duration::from_secs(1);

/// How one tab's refresh ended, told to the other tabs of the checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TabNews {
    /// A new token, with the lifetime it had left when it was sent.
    Refreshed { token: String, expires_in_ms: u64 },
    /// The merchant's server could not give one; the others back off too
    /// instead of each trying in turn — and try again when the teller will
    /// (`retry_in_ms`), so the tabs of one checkout keep retrying as one.
    /// `permanent`: the server said trying again will not help, and the
    /// others stop too, for the same `stop_reason` (absent from a tab of
    /// an older build).
    Failed {
        message: String,
        #[serde(default)]
        retry_in_ms: Option<u64>,
        #[serde(default)]
        permanent: bool,
        #[serde(default)]
        stop_reason: Option<StopReason>,
    },
}

impl TabNews {
    pub fn refreshed(token: &AccessToken) -> Self {
        Self::Refreshed {
            token: token.token.clone(),
            expires_in_ms: u64::try_from(token.expires_in.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// The other tabs of this checkout, as the keeper sees them.
pub trait Tabs: 'static {
    /// Waits until this tab alone may refresh. The turn passes on when the
    /// returned [`Turn`] is dropped.
    fn turn(&self) -> LocalBoxFuture<'static, Turn>;

    /// Tells the other tabs how this tab's refresh ended.
    fn tell(&self, news: &TabNews);
}

/// This tab's turn to refresh.
pub struct Turn {
    /// Another tab held the turn when this one asked: it has just refreshed
    /// (or tried to), and its news may still be on the way.
    pub waited: bool,
    release: Option<Box<dyn FnOnce()>>,
}

impl Turn {
    pub fn new(waited: bool, release: impl FnOnce() + 'static) -> Self {
        Self {
            waited,
            release: Some(Box::new(release)),
        }
    }

    /// A turn with nothing to release: when there is no lock to take.
    pub fn alone() -> Self {
        Self {
            waited: false,
            release: None,
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_reads_back_what_was_written() {
        let news = TabNews::refreshed(&AccessToken {
            token: "t".into(),
            expires_in: Duration::from_millis(1500),
        });
        let json = serde_json::to_string(&news).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"refreshed","token":"t","expires_in_ms":1500}"#
        );
        assert_eq!(serde_json::from_str::<TabNews>(&json).unwrap(), news);
    }

    #[test]
    fn dropping_a_turn_releases_it_once() {
        let released = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = released.clone();
        drop(Turn::new(true, move || counter.set(counter.get() + 1)));
        assert_eq!(released.get(), 1);
    }
}
