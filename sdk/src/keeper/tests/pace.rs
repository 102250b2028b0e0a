//! The rules that keep a page from asking too often or too late: what the
//! handler is told, the floor and the throttle, a second refusal, a busy
//! server's wait, a stop heard from another tab, the expiry reported with
//! no handler, and the check before a payment.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::future::FutureExt;

use super::support::*;
use crate::error::{RefreshError, SdkError, StopReason};
use crate::keeper::{
    Keeper, RefreshContext, RefreshReason, TokenState, TokenStatus, THROTTLE_LIMIT,
};
use crate::platform::Platform;
use crate::tabs::TabNews;

/// A JWT-shaped token whose payload is `{"jti":"ct_one"}`.
const JWT_ONE: &str = "h.eyJqdGkiOiJjdF9vbmUifQ.s";

/// Starts a refresh for `reason` and runs it as far as it goes.
fn ask(
    platform: &SimulatedPlatform,
    keeper: &Rc<Keeper<SimulatedPlatform>>,
    reason: RefreshReason,
) {
    platform.spawn(keeper.refresh(reason).map(|_| ()).boxed_local());
    platform.run_tasks();
}

#[test]
fn the_handler_is_told_why_which_try_and_which_token_was_refused() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = Keeper::new(
        platform.clone(),
        token(JWT_ONE, secs(900)),
        options(Some(server.handler())),
    );
    ask(&platform, &keeper, RefreshReason::Expired);
    server.answer(Err("down".into()));
    platform.run_tasks();
    // The backoff's retry is the second try, for the timer.
    platform.advance(secs(1));
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    assert_eq!(
        *server.contexts.borrow(),
        vec![
            RefreshContext {
                reason: RefreshReason::Expired,
                attempt: 1,
                refused_token_id: Some("ct_one".into()),
            },
            RefreshContext {
                reason: RefreshReason::Timer,
                attempt: 2,
                refused_token_id: None,
            },
        ]
    );
}

#[test]
fn a_token_that_lives_no_time_is_refreshed_at_the_floor_not_in_a_loop() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = Keeper::new(
        platform.clone(),
        token("t0", Duration::ZERO),
        options(Some(server.handler())),
    );
    for _ in 0..12 {
        platform.advance(secs(5));
        server.answer(Ok(token("again", Duration::ZERO)));
        platform.run_tasks();
    }
    // One a minute at most, by the floor alone: twelve, not thousands.
    assert_eq!(server.calls.get(), 12);
    assert_eq!(keeper.snapshot().refresh_count, 12);
}

#[test]
fn refreshes_that_succeed_too_often_back_off_as_failures_would() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    // Calls refused one after another, each refresh answered at once.
    for _ in 0..THROTTLE_LIMIT + 1 {
        ask(&platform, &keeper, RefreshReason::Expired);
        server.answer(Ok(token("short", secs(1))));
        platform.run_tasks();
        platform.advance(Duration::from_millis(100));
    }
    let calls = server.calls.get();
    // The thirteenth in a minute: the timer waits the backoff's first
    // step (1 s) on top of the floor only if that is later: 5 s here.
    platform.advance(secs(4));
    assert_eq!(server.calls.get(), calls, "not before the floor");
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), calls + 1);
    server.answer(Ok(token("short", secs(1))));
    platform.run_tasks();
    // Fourteenth: 2 s of backoff, still under the floor; the fifteenth
    // and later ones grow past it: 4, 8, 16 s.
    for (expected_wait, after) in [(5, 14), (5, 15), (8, 16), (16, 17)] {
        let before = server.calls.get();
        platform.advance(secs(expected_wait) - Duration::from_millis(1));
        assert_eq!(server.calls.get(), before, "refresh {after} came early");
        platform.advance(Duration::from_millis(1));
        assert_eq!(server.calls.get(), before + 1, "refresh {after} came late");
        server.answer(Ok(token("short", secs(1))));
        platform.run_tasks();
    }
}

#[test]
fn a_new_token_refused_at_once_is_a_failed_refresh_and_clicks_wait_for_the_backoff() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    ask(&platform, &keeper, RefreshReason::Expired);
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    // The vendor refuses t2 too: not AccessTokenExpired for the page.
    let error = keeper.refused("t2");
    assert!(matches!(error, SdkError::RefreshFailed(_)), "{error:?}");
    assert!(matches!(
        keeper.snapshot().status,
        TokenStatus::Expired { retry_in: Some(d), .. } if d == secs(1)
    ));
    // Another refused call within that second gets the failure, no call.
    let outcome = Rc::new(RefCell::new(None));
    let sink = outcome.clone();
    let flight = keeper.refresh(RefreshReason::Expired);
    platform.spawn(
        async move {
            *sink.borrow_mut() = Some(flight.await);
        }
        .boxed_local(),
    );
    platform.run_tasks();
    assert!(matches!(
        *outcome.borrow(),
        Some(Err(SdkError::RefreshFailed(_)))
    ));
    assert_eq!(server.calls.get(), 1);
    // The backoff's own retry goes out.
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), 2);
}

#[test]
fn a_busy_server_is_not_asked_again_before_its_retry_after() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    platform.advance(secs(840));
    server.answer(Err(RefreshError::busy("busy", secs(20))));
    platform.run_tasks();
    assert!(matches!(
        keeper.snapshot().status,
        TokenStatus::Expired { retry_in: Some(d), .. } if d == secs(20)
    ));
    platform.advance(secs(19));
    assert_eq!(server.calls.get(), 1, "the backoff said 1 s, the server 20");
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), 2);
}

#[test]
fn a_stop_heard_from_another_tab_ends_this_one_too_though_its_token_is_fine() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    keeper.hear(TabNews::Failed {
        message: "Please log in to continue.".into(),
        retry_in_ms: None,
        permanent: true,
        stop_reason: Some(StopReason::NotLoggedIn),
    });
    assert!(matches!(
        keeper.snapshot().status,
        TokenStatus::Expired {
            error: SdkError::RefreshRefused {
                reason: StopReason::NotLoggedIn,
                ..
            },
            retry_in: None,
        }
    ));
    assert_eq!(platform.pending_timers(), 0);
    platform.advance(secs(3600));
    assert_eq!(server.calls.get(), 0, "no tab asks again");
}

#[test]
fn without_a_handler_the_expiry_is_reported_when_it_comes_without_any_call() {
    let platform = SimulatedPlatform::new();
    let seen: Rc<RefCell<Vec<TokenState>>> = Rc::default();
    let sink = seen.clone();
    let keeper = Keeper::new(
        platform.clone(),
        token("t1", secs(300)),
        crate::keeper::KeeperOptions {
            listener: Some(Rc::new(move |state: &TokenState| {
                sink.borrow_mut().push(state.clone())
            })),
            ..options(None)
        },
    );
    platform.advance(secs(299));
    assert_eq!(keeper.unusable(), None);
    platform.advance(secs(1));
    let last = seen.borrow().last().cloned().unwrap();
    assert_eq!(
        last.status,
        TokenStatus::Expired {
            error: SdkError::AccessTokenExpired,
            retry_in: None
        }
    );
    assert_eq!(keeper.unusable(), Some(SdkError::AccessTokenExpired));
    assert_eq!(platform.pending_timers(), 0);
}

#[test]
fn without_a_handler_a_tab_whose_timer_slept_reports_the_expiry_when_it_wakes() {
    let platform = SimulatedPlatform::new();
    let keeper = Keeper::new(platform.clone(), token("t1", secs(300)), options(None));
    platform.skip_to(secs(200));
    keeper.check(RefreshReason::Visibility);
    assert_eq!(keeper.unusable(), None, "not yet");
    platform.skip_to(secs(400)); // asleep past expiry; no timer ran
    keeper.check(RefreshReason::Visibility);
    assert_eq!(keeper.unusable(), Some(SdkError::AccessTokenExpired));
}

#[test]
fn a_payment_waits_for_a_fresh_token_only_near_the_end() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    assert!(!keeper.near_end(secs(10)));
    platform.skip_to(secs(839));
    assert!(!keeper.near_end(secs(10)));
    platform.skip_to(secs(840)); // the refresh point
    assert!(keeper.near_end(secs(10)));
    let short = Keeper::new(
        platform.clone(),
        token("t", secs(8)),
        options(Some(server.handler())),
    );
    assert!(short.near_end(secs(10)), "under ten seconds left");
}
