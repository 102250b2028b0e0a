//! Opening without a token ([`Keeper::connect`]) and refusals that stop: the
//! first mint is retried like any refresh, and a refusal for good stops
//! every timer instead of retrying forever.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::future::FutureExt;

use super::support::*;
use crate::error::{RefreshError, StopReason};
use crate::keeper::{Keeper, RefreshReason, TokenStatus};
use crate::platform::Platform;
use crate::SdkError;

/// A keeper opening with `server` for both its first token and the later ones.
fn connecting(platform: &SimulatedPlatform, server: &Rc<Server>) -> Rc<Keeper<SimulatedPlatform>> {
    Keeper::connect(
        platform.clone(),
        server.handler(),
        options(Some(server.handler())),
    )
}

/// What `opened` resolves with, once it has.
fn watch_opened(
    platform: &SimulatedPlatform,
    keeper: &Keeper<SimulatedPlatform>,
) -> Rc<RefCell<Option<Result<(), SdkError>>>> {
    let outcome = Rc::new(RefCell::new(None));
    let sink = outcome.clone();
    let opened = keeper.opened();
    platform.spawn(
        async move {
            let result = opened.await;
            *sink.borrow_mut() = Some(result);
        }
        .boxed_local(),
    );
    platform.run_tasks();
    outcome
}

#[test]
fn connect_asks_for_the_first_token_at_once_and_counts_refreshes_after_it() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = connecting(&platform, &server);
    let opened = watch_opened(&platform, &keeper);
    assert_eq!(server.calls.get(), 1);
    assert!(!keeper.snapshot().opened);
    assert_eq!(*opened.borrow(), None);
    server.answer(Ok(token("t1", secs(900))));
    platform.run_tasks();
    assert_eq!(*opened.borrow(), Some(Ok(())));
    let state = keeper.snapshot();
    assert!(state.opened);
    assert_eq!(keeper.token(), "t1");
    assert_eq!((state.refresh_count, state.last_reason), (0, None));
    // From here on it is an ordinary keeper: the timer a margin before expiry.
    platform.advance(secs(839));
    assert_eq!(server.calls.get(), 1);
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), 2);
}

#[test]
fn a_first_mint_that_fails_is_retried_on_the_backoff_and_told_meanwhile() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = connecting(&platform, &server);
    let opened = watch_opened(&platform, &keeper);
    for (failures, wait) in [1, 2, 4].into_iter().enumerate() {
        server.answer(Err("merchant server down".into()));
        platform.run_tasks();
        assert!(matches!(
            keeper.snapshot().status,
            TokenStatus::Expired { error: SdkError::RefreshFailed(_), retry_in: Some(d) }
                if d == secs(wait)
        ));
        assert_eq!(*opened.borrow(), None);
        platform.advance(secs(wait) - Duration::from_millis(1));
        assert_eq!(server.calls.get(), failures as u32 + 1);
        platform.advance(Duration::from_millis(1));
        assert_eq!(server.calls.get(), failures as u32 + 2);
    }
    server.answer(Ok(token("t1", secs(900))));
    platform.run_tasks();
    assert_eq!(*opened.borrow(), Some(Ok(())));
    assert_eq!(keeper.snapshot().status, TokenStatus::Valid);
}

#[test]
fn a_first_mint_refused_for_good_ends_opening_with_the_refusal_and_no_timer() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = connecting(&platform, &server);
    let opened = watch_opened(&platform, &keeper);
    server.answer(Err(RefreshError::stop(
        StopReason::NotLoggedIn,
        "Please log in to continue.",
    )));
    platform.run_tasks();
    let refused = SdkError::RefreshRefused {
        reason: StopReason::NotLoggedIn,
        message: "Please log in to continue.".into(),
    };
    assert_eq!(*opened.borrow(), Some(Err(refused.clone())));
    assert_eq!(platform.pending_timers(), 0);
    platform.advance(secs(3600));
    assert_eq!(server.calls.get(), 1);
    // Asking after the refusal answers at once, without a call.
    assert_eq!(
        *watch_opened(&platform, &keeper).borrow(),
        Some(Err(refused))
    );
}

#[test]
fn without_a_handler_the_opener_mints_once_and_only_the_expiry_is_timed() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = Keeper::connect(platform.clone(), server.handler(), options(None));
    platform.run_tasks();
    server.answer(Ok(token("t1", secs(900))));
    platform.run_tasks();
    assert!(keeper.snapshot().opened);
    assert_eq!(platform.pending_timers(), 1, "the expiry's report");
    platform.advance(secs(3600));
    assert_eq!(server.calls.get(), 1);
    assert_eq!(keeper.unusable(), Some(SdkError::AccessTokenExpired));
}

#[test]
fn a_refresh_refused_for_good_stops_the_timers_until_the_page_asks_again() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    platform.advance(secs(840));
    server.answer(Err(RefreshError::stop(
        StopReason::NotPayable,
        "This invoice cannot be paid online right now.",
    )));
    platform.run_tasks();
    assert!(matches!(
        keeper.snapshot().status,
        TokenStatus::Expired {
            error: SdkError::RefreshRefused {
                reason: StopReason::NotPayable,
                ..
            },
            retry_in: None
        }
    ));
    assert_eq!(platform.pending_timers(), 0);
    // A wake-up does not ask again either…
    platform.advance(secs(600));
    keeper.check(RefreshReason::Visibility);
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1);
    // …but the page's "try again" does, and a token ends the refusal.
    platform.spawn(
        keeper
            .refresh(RefreshReason::Manual)
            .map(|_| ())
            .boxed_local(),
    );
    platform.run_tasks();
    assert_eq!(server.calls.get(), 2);
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    assert_eq!(keeper.snapshot().status, TokenStatus::Valid);
    assert_eq!(platform.pending_timers(), 1);
}
