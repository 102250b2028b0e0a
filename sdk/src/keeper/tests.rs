//! The keeper under simulated time, in one tab (here) and across tabs
//! (`tabs`).

mod idle;
mod opening;
mod pace;
mod support;
mod tabs;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::future::FutureExt;

use super::*;
use support::*;

#[test]
fn the_timer_refreshes_a_margin_before_expiry_from_the_reported_lifetime() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    platform.advance(secs(839));
    assert_eq!(server.calls.get(), 0);
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), 1);
    platform.advance(Duration::from_millis(250)); // the handler's round trip
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    assert_eq!(keeper.token(), "t2");
    let state = keeper.snapshot();
    assert_eq!(state.refresh_count, 1);
    assert_eq!(state.last_reason, Some(RefreshReason::Timer));
    assert_eq!(state.last_refresh_took, Some(Duration::from_millis(250)));
    assert_eq!(state.status, TokenStatus::Valid);
    // The next refresh counts from the new token's arrival.
    platform.advance(secs(839));
    assert_eq!(server.calls.get(), 1);
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), 2);
}

#[test]
fn c3_concurrent_expiries_make_one_handler_call_and_all_get_its_outcome() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    let outcomes = Rc::new(RefCell::new(Vec::new()));
    for _ in 0..10 {
        let flight = keeper.refresh(RefreshReason::Expired);
        let outcomes = outcomes.clone();
        platform.spawn(
            async move {
                let outcome = flight.await;
                outcomes.borrow_mut().push(outcome);
            }
            .boxed_local(),
        );
    }
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1);
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    assert_eq!(*outcomes.borrow(), vec![Ok(()); 10]);
    assert_eq!(keeper.token(), "t2");
}

#[test]
fn c4_a_failed_refresh_backs_off_shows_expired_never_loops_and_recovers_by_itself() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    platform.advance(secs(840));
    server.answer(Err("merchant server down".into()));
    platform.run_tasks();
    assert!(matches!(
        keeper.snapshot().status,
        TokenStatus::Expired { retry_in: Some(d), .. } if d == secs(1)
    ));
    // Retries 1, 2, 4, 8 and 16 s after each failure…
    for wait in [1, 2, 4, 8, 16] {
        platform.advance(secs(wait) - Duration::from_millis(1));
        let calls = server.calls.get();
        platform.advance(Duration::from_millis(1));
        assert_eq!(server.calls.get(), calls + 1, "retry after {wait} s");
        server.answer(Err("still down".into()));
        platform.run_tasks();
    }
    // …then every 30–60 s (45 s with the fake platform's "random" 0.5):
    // an hour of outage costs 80 calls, not a loop.
    let calls = server.calls.get();
    for _ in 0..80 {
        platform.advance(secs(45));
        server.answer(Err("still down".into()));
        platform.run_tasks();
    }
    assert_eq!(server.calls.get(), calls + 80);
    assert_eq!(platform.pending_timers(), 1, "one retry timer, never more");
    assert!(matches!(
        keeper.snapshot().status,
        TokenStatus::Expired { retry_in: Some(d), .. } if d == secs(45)
    ));
    // The server is back: the next automatic try recovers, nobody asked.
    platform.advance(secs(45));
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    assert_eq!(keeper.snapshot().status, TokenStatus::Valid);
    assert_eq!(keeper.token(), "t2");
    assert_eq!(keeper.snapshot().last_reason, Some(RefreshReason::Timer));
}

#[test]
fn c4_a_person_may_retry_at_once_instead_of_waiting() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    platform.advance(secs(840));
    server.answer(Err("merchant server down".into()));
    platform.run_tasks();
    let retry = keeper.refresh(RefreshReason::Manual);
    platform.spawn(retry.map(|_| ()).boxed_local());
    platform.run_tasks();
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    assert_eq!(keeper.snapshot().status, TokenStatus::Valid);
    assert_eq!(keeper.snapshot().last_reason, Some(RefreshReason::Manual));
}

#[test]
fn c1_a_tab_woken_past_the_refresh_point_refreshes_once_at_once() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    // A throttled tab: time passes, the timer has not run.
    platform.skip_to(secs(2000));
    for _ in 0..5 {
        keeper.check(RefreshReason::Visibility);
    }
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1, "one refresh, not a storm");
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    assert_eq!(
        keeper.snapshot().last_reason,
        Some(RefreshReason::Visibility)
    );
    // Not due any more: checking again does nothing.
    keeper.check(RefreshReason::Visibility);
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1);
}

#[test]
fn c2_only_the_reported_lifetime_counts_not_any_wall_clock() {
    // A token reused by the server has less left than a new one: 300 s.
    let platform = SimulatedPlatform::new();
    platform.skip_to(secs(1_000_000)); // whatever the tab's clock says
    let server = server();
    let _keeper = Keeper::new(
        platform.clone(),
        token("t1", secs(300)),
        options(Some(server.handler())),
    );
    platform.advance(secs(239));
    assert_eq!(server.calls.get(), 0);
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), 1);
}

#[test]
fn a_token_shared_by_another_tab_is_adopted_if_it_lives_longer() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    platform.advance(secs(800));
    keeper.adopt(token("from-tab", secs(900)));
    assert_eq!(keeper.token(), "from-tab");
    assert_eq!(keeper.snapshot().last_reason, Some(RefreshReason::Tab));
    // Its own timer moved: no refresh at the old point.
    platform.advance(secs(100));
    assert_eq!(server.calls.get(), 0);
    // An older token is ignored.
    keeper.adopt(token("stale", secs(10)));
    assert_eq!(keeper.token(), "from-tab");
}

#[test]
fn c5_without_a_handler_refresh_is_access_token_expired() {
    let platform = SimulatedPlatform::new();
    let keeper = Keeper::new(platform.clone(), token("t1", secs(900)), options(None));
    let outcome = Rc::new(RefCell::new(None));
    let sink = outcome.clone();
    let flight = keeper.refresh(RefreshReason::Expired);
    platform.spawn(
        async move {
            let result = flight.await;
            *sink.borrow_mut() = Some(result);
        }
        .boxed_local(),
    );
    platform.run_tasks();
    assert_eq!(*outcome.borrow(), Some(Err(SdkError::AccessTokenExpired)));
}

#[test]
fn dropping_the_keeper_cancels_its_timer() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    assert_eq!(platform.pending_timers(), 1);
    drop(keeper);
    assert_eq!(platform.pending_timers(), 0);
    platform.advance(secs(3600));
    assert_eq!(server.calls.get(), 0);
}
