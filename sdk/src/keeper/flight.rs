//! One refresh in flight, and how it shares with the other tabs of the
//! checkout: wait for this tab's turn, take another tab's outcome if one
//! came meanwhile, else ask the handler and tell the others.

use std::rc::{Rc, Weak};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{self, FutureExt, LocalBoxFuture};

use super::state::Heard;
use super::{ExpiryHandler, Keeper, RefreshContext, RefreshReason};
use crate::error::SdkError;
use crate::platform::Platform;
use crate::schedule::retry_delay;
use crate::tabs::{TabNews, Tabs, Turn, NEWS_GRACE};

impl<P: Platform> Keeper<P> {
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
            Err((refusal, retry_in)) => self.finish(Err(refusal), reason, retry_in),
        }
    }

    /// When this tab tries again if the refresh under way fails now.
    fn next_retry_in(&self) -> Duration {
        retry_delay(self.state.borrow().failures + 1, self.platform.random())
    }
}

/// One refresh. Holds the keeper weakly: the page may go away at any await.
pub(super) async fn fly<P: Platform>(
    keeper: Weak<Keeper<P>>,
    handler: ExpiryHandler,
    context: RefreshContext,
    tabs: Option<Rc<dyn Tabs>>,
    generation: u64,
) -> Result<(), SdkError> {
    let reason = context.reason;
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
    let opening = keeper
        .upgrade()
        .is_some_and(|keeper| keeper.state.borrow().opener.is_some());
    let result = handler(context).await;
    let keeper = keeper.upgrade();
    // A transient failure's next try is chosen now, so the other tabs can
    // keep to it.
    let retry_in = match (&result, &keeper) {
        (Err(refusal), Some(keeper)) if refusal.is_transient() => Some(keeper.next_retry_in()),
        _ => None,
    };
    // A first token is not news: the others hold one already (the server
    // hands out the same one while it is fresh). A failure is: tabs that are
    // failing too keep in step with it, or stop with it.
    if let (Some(tabs), false) = (&tabs, opening && result.is_ok()) {
        tabs.tell(&match &result {
            Ok(token) => TabNews::refreshed(token),
            Err(refusal) => TabNews::Failed {
                message: refusal.message().to_owned(),
                retry_in_ms: retry_in.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                permanent: !refusal.is_transient(),
                stop_reason: refusal.stop_reason(),
            },
        });
    }
    drop(turn);
    let Some(keeper) = keeper else {
        return Ok(());
    };
    keeper.finish(result, reason, retry_in)
}
