//! The keeper on the real browser platform, in Chromium and in Firefox (run
//! by wasm-bindgen-test-runner from `scripts/test`): the clock, gloo-timers,
//! and tabs taking turns through Web Locks and sharing news through a
//! `BroadcastChannel`. The logic itself is tested natively under simulated
//! time (`src/keeper/tests`); these prove the browser glue does what the
//! fakes there assume, and that the wake-up listeners are there while the
//! page holds them and gone once it drops them. Tokens live a few hundred
//! milliseconds (no refresh floor here: that is tested natively), so the
//! real timers fire quickly; every wait ends on an event, bounded by a
//! deadline.

#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use checkout_sdk::{
    AccessToken, Browser, BrowserTabs, ExpiryHandler, Keeper, KeeperOptions, Platform,
    RefreshReason, Tabs, TokenState, Wakeups,
};
use futures::channel::mpsc;
use futures::future::{self, Either, FutureExt};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Long enough for any of these to finish on a slow machine; never reached
/// when the code is right.
const DEADLINE_MS: u32 = 10_000;

fn token(name: &str, millis: u64) -> AccessToken {
    AccessToken {
        token: name.into(),
        expires_in: Duration::from_millis(millis),
    }
}

/// A merchant server answering after a short round trip, counting calls.
fn handler(calls: Rc<Cell<u32>>) -> ExpiryHandler {
    Rc::new(move |_context| {
        calls.set(calls.get() + 1);
        async {
            TimeoutFuture::new(20).await;
            Ok(token("t2", 600_000))
        }
        .boxed_local()
    })
}

/// Builds a keeper whose state changes arrive on the returned stream.
fn keeper(
    first: AccessToken,
    handler: ExpiryHandler,
    tabs: Option<Rc<BrowserTabs>>,
) -> (Rc<Keeper<Browser>>, mpsc::UnboundedReceiver<TokenState>) {
    let (sender, states) = mpsc::unbounded();
    let keeper = Keeper::new(
        Browser::default(),
        first,
        KeeperOptions {
            handler: Some(handler),
            margin: Duration::from_secs(60),
            min_interval: Duration::ZERO,
            idle_after: None,
            listener: Some(Rc::new(move |state: &TokenState| {
                let _ = sender.unbounded_send(state.clone());
            })),
            tabs: tabs.clone().map(|tabs| -> Rc<dyn Tabs> { tabs }),
        },
    );
    if let Some(tabs) = &tabs {
        tabs.deliver_to(&keeper);
    }
    (keeper, states)
}

/// Waits for the first state with a refresh counted in it.
async fn refreshed(states: &mut mpsc::UnboundedReceiver<TokenState>) -> TokenState {
    let wait = async {
        while let Some(state) = states.next().await {
            if state.refresh_count > 0 {
                return state;
            }
        }
        panic!("the keeper went away");
    };
    match future::select(Box::pin(wait), TimeoutFuture::new(DEADLINE_MS)).await {
        Either::Left((state, _)) => state,
        Either::Right(_) => panic!("no refresh within {DEADLINE_MS} ms"),
    }
}

#[wasm_bindgen_test]
async fn the_browser_clock_counts_forward() {
    let browser = Browser::default();
    let before = browser.now();
    TimeoutFuture::new(30).await;
    assert!(browser.now() >= before + Duration::from_millis(25));
}

#[wasm_bindgen_test]
async fn a_keeper_refreshes_on_its_browser_timer_before_expiry() {
    let calls = Rc::new(Cell::new(0));
    // 400 ms left: refreshed at 300 ms (a quarter of the life is the margin).
    let (keeper, mut states) = keeper(token("t1", 400), handler(calls.clone()), None);
    let state = refreshed(&mut states).await;
    assert_eq!(state.last_reason, Some(RefreshReason::Timer));
    assert!(state.expires_in > Duration::from_secs(500));
    assert_eq!(keeper.token(), "t2");
    assert_eq!(calls.get(), 1);
}

#[wasm_bindgen_test]
async fn two_keepers_of_one_checkout_due_together_make_one_call() {
    let calls = Rc::new(Cell::new(0));
    let name = "in-browser-test";
    let tabs = || BrowserTabs::open(name).map(Rc::new);
    let (first, mut first_states) = keeper(token("t1", 400), handler(calls.clone()), tabs());
    let (second, mut second_states) = keeper(token("t1", 400), handler(calls.clone()), tabs());
    let reasons = [
        refreshed(&mut first_states).await.last_reason,
        refreshed(&mut second_states).await.last_reason,
    ];
    assert_eq!(calls.get(), 1, "one refresh for both");
    assert!(reasons.contains(&Some(RefreshReason::Timer)));
    assert!(reasons.contains(&Some(RefreshReason::Tab)));
    assert_eq!((first.token(), second.token()), ("t2".into(), "t2".into()));
}

/// The events a keeper wakes on, each where the browser fires it.
const WAKE_EVENTS: [(&str, bool); 5] = [
    ("visibilitychange", true),
    ("resume", true),
    ("focus", false),
    ("pageshow", false),
    ("online", false),
];

/// Fires `event` on the document or the window, as the browser would.
fn fire(event: &str, on_document: bool) {
    let window = web_sys::window().unwrap();
    let event = web_sys::Event::new(event).unwrap();
    if on_document {
        window.document().unwrap().dispatch_event(&event).unwrap();
    } else {
        window.dispatch_event(&event).unwrap();
    }
}

#[wasm_bindgen_test]
async fn each_wake_up_event_asks_the_keeper_while_the_page_listens() {
    for (event, on_document) in WAKE_EVENTS {
        let calls = Rc::new(Cell::new(0));
        // Due at once: its timer would refresh as soon as the page yields,
        // but the event comes first, in the same turn, and names the reason.
        let (keeper, mut states) = keeper(token("t1", 0), handler(calls.clone()), None);
        let _wakeups = Wakeups::listen(&keeper).unwrap();
        fire(event, on_document);
        let state = refreshed(&mut states).await;
        assert_eq!(
            state.last_reason,
            Some(RefreshReason::Visibility),
            "{event}"
        );
        assert_eq!(calls.get(), 1, "{event}");
    }
}

#[wasm_bindgen_test]
async fn dropped_wake_up_listeners_hear_nothing() {
    let calls = Rc::new(Cell::new(0));
    let (keeper, mut states) = keeper(token("t1", 0), handler(calls.clone()), None);
    drop(Wakeups::listen(&keeper).unwrap());
    for (event, on_document) in WAKE_EVENTS {
        fire(event, on_document);
    }
    // Only the keeper's own timer refreshed: no listener was left to.
    let state = refreshed(&mut states).await;
    assert_eq!(state.last_reason, Some(RefreshReason::Timer));
    assert_eq!(calls.get(), 1);
}
