//! The idle rule: a page hidden with no input for 30 minutes stops
//! refreshing on its timer, and comes back at its first sign of life.

use std::time::Duration;

use futures::future::FutureExt;

use super::support::*;
use crate::keeper::{Keeper, KeeperOptions, RefreshReason, TokenStatus};
use crate::platform::Platform;

/// Answers every call waiting with a fresh 900 s token.
fn answer_all(platform: &SimulatedPlatform, server: &Server) {
    while server.replies_waiting() > 0 {
        server.answer(Ok(token("fresh", secs(900))));
    }
    platform.run_tasks();
}

/// Moves time on by `by`, a minute at a time, answering each call.
fn pass(platform: &SimulatedPlatform, server: &Server, by: Duration) {
    let minutes = by.as_secs() / 60;
    for _ in 0..minutes {
        platform.advance(secs(60));
        answer_all(platform, server);
    }
}

#[test]
fn a_hidden_page_without_input_rests_after_half_an_hour_and_refreshes_when_shown() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    keeper.visibility(true);
    // Refreshes at 14 and 28 minutes; the next point, at 42, finds it idle.
    pass(&platform, &server, secs(8 * 3600));
    assert_eq!(
        server.calls.get(),
        2,
        "no refresh for eight hours of nobody"
    );
    let state = keeper.snapshot();
    assert!(state.idle);
    assert_eq!(platform.pending_timers(), 0);
    // Even a wake-up event does nothing while the page stays hidden.
    keeper.check(RefreshReason::Visibility);
    platform.run_tasks();
    assert_eq!(server.calls.get(), 2);

    // Shown again: at once, one refresh, and the timer is back.
    keeper.visibility(false);
    platform.run_tasks();
    assert_eq!(server.calls.get(), 3);
    answer_all(&platform, &server);
    let state = keeper.snapshot();
    assert!(!state.idle);
    assert_eq!(state.status, TokenStatus::Valid);
    assert_eq!(state.last_reason, Some(RefreshReason::Visibility));
    platform.advance(secs(840));
    assert_eq!(server.calls.get(), 4);
}

#[test]
fn input_in_a_hidden_page_keeps_it_awake_and_a_visible_page_never_rests() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    keeper.visibility(true);
    // A key pressed at minute 20 (a page can hear input while hidden, e.g.
    // a media key): at minute 42 it has been only 22 minutes.
    pass(&platform, &server, secs(20 * 60));
    keeper.active();
    pass(&platform, &server, secs(25 * 60));
    assert_eq!(server.calls.get(), 3);
    assert!(!keeper.snapshot().idle);

    let visible = Keeper::new(
        platform.clone(),
        token("t1", secs(900)),
        options(Some(server.handler())),
    );
    let before = server.calls.get();
    pass(&platform, &server, secs(3 * 3600));
    // The first keeper rested at some point; the visible one never did:
    // one refresh every 14 minutes for three hours.
    assert!(!visible.snapshot().idle);
    assert!(server.calls.get() - before >= 180 / 14);
}

#[test]
fn input_wakes_an_idle_page_and_without_an_idle_time_it_never_rests() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    keeper.visibility(true);
    pass(&platform, &server, secs(3600));
    assert!(keeper.snapshot().idle);
    let calls = server.calls.get();
    keeper.active();
    platform.run_tasks();
    assert_eq!(server.calls.get(), calls + 1, "a key press brings it back");
    answer_all(&platform, &server);

    let tireless = Keeper::new(
        platform.clone(),
        token("t1", secs(900)),
        KeeperOptions {
            idle_after: None,
            ..options(Some(server.handler()))
        },
    );
    tireless.visibility(true);
    keeper.visibility(false); // the other one is watched: it keeps going
    let before = server.calls.get();
    pass(&platform, &server, secs(3 * 3600));
    assert!(!tireless.snapshot().idle);
    assert!(server.calls.get() - before >= 2 * (180 / 14));
}

#[test]
fn an_idle_page_still_answers_a_refused_call() {
    let platform = SimulatedPlatform::new();
    let server = server();
    let keeper = keeper(&platform, &server);
    keeper.visibility(true);
    pass(&platform, &server, secs(3600));
    assert!(keeper.snapshot().idle);
    let calls = server.calls.get();
    // A call the vendor refused (say, from a script of the page): the 401
    // path is not the timer's, and is not resting.
    platform.spawn(
        keeper
            .refresh(RefreshReason::Expired)
            .map(|_| ())
            .boxed_local(),
    );
    platform.run_tasks();
    assert_eq!(server.calls.get(), calls + 1);
}
