//! Several tabs of one checkout: a fake lock that grants turns in order, and
//! a message bus whose deliveries the test makes by hand, so each race the
//! browser allows (news before the turn, the turn before the news, no news
//! at all) is played out on purpose.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use futures::channel::oneshot;
use futures::future::{FutureExt, LocalBoxFuture};

use super::support::*;
use crate::keeper::{Keeper, KeeperOptions, RefreshReason, TokenStatus};
use crate::tabs::{TabNews, Tabs, Turn, NEWS_GRACE};
use crate::SdkError;

#[derive(Default)]
struct Bus {
    held: Cell<bool>,
    /// While set, a released turn is not passed on until `resume`.
    paused: Cell<bool>,
    released_while_paused: Cell<bool>,
    waiting: RefCell<VecDeque<oneshot::Sender<Turn>>>,
    members: RefCell<Vec<Weak<Keeper<SimulatedPlatform>>>>,
    /// Posted, not yet delivered: (sender, news).
    in_transit: RefCell<Vec<(usize, TabNews)>>,
}

impl Bus {
    fn release(self: &Rc<Self>) {
        if self.paused.get() {
            self.released_while_paused.set(true);
            return;
        }
        let next = self.waiting.borrow_mut().pop_front();
        match next {
            // A waiter that went away hands its turn back, and so on.
            Some(waiter) => {
                let _ = waiter.send(self.turn(true));
            }
            None => self.held.set(false),
        }
    }

    fn turn(self: &Rc<Self>, waited: bool) -> Turn {
        let bus = self.clone();
        Turn::new(waited, move || bus.release())
    }

    /// Delivers every posted message to every other tab.
    fn deliver(&self) {
        let posted: Vec<_> = self.in_transit.borrow_mut().drain(..).collect();
        for (from, news) in posted {
            let members: Vec<_> = self.members.borrow().clone();
            for (to, member) in members.iter().enumerate() {
                if let (true, Some(keeper)) = (to != from, member.upgrade()) {
                    keeper.hear(news.clone());
                }
            }
        }
    }

    fn resume(self: &Rc<Self>) {
        self.paused.set(false);
        if self.released_while_paused.replace(false) {
            self.release();
        }
    }

    fn lose_mail(&self) {
        self.in_transit.borrow_mut().clear();
    }
}

struct FakeTabs {
    bus: Rc<Bus>,
    me: usize,
}

impl Tabs for FakeTabs {
    fn turn(&self) -> LocalBoxFuture<'static, Turn> {
        if !self.bus.held.replace(true) {
            return std::future::ready(self.bus.turn(false)).boxed_local();
        }
        let (waiter, turn) = oneshot::channel();
        self.bus.waiting.borrow_mut().push_back(waiter);
        async move { turn.await.expect("the bus outlives the test") }.boxed_local()
    }

    fn tell(&self, news: &TabNews) {
        self.bus
            .in_transit
            .borrow_mut()
            .push((self.me, news.clone()));
    }
}

struct Scene {
    platform: SimulatedPlatform,
    server: Rc<Server>,
    bus: Rc<Bus>,
    keepers: Vec<Rc<Keeper<SimulatedPlatform>>>,
}

/// `n` tabs of one checkout holding the same token, sharing one clock and
/// one merchant server.
fn tabs(n: usize) -> Scene {
    let platform = SimulatedPlatform::new();
    let server = server();
    let bus = Rc::new(Bus::default());
    let keepers: Vec<_> = (0..n)
        .map(|me| {
            let tabs: Rc<dyn Tabs> = Rc::new(FakeTabs {
                bus: bus.clone(),
                me,
            });
            keeper_with_tabs(&platform, &server, Some(tabs))
        })
        .collect();
    *bus.members.borrow_mut() = keepers.iter().map(Rc::downgrade).collect();
    Scene {
        platform,
        server,
        bus,
        keepers,
    }
}

#[test]
fn tabs_due_at_once_make_one_call_even_when_the_turn_outruns_the_news() {
    let Scene {
        platform,
        server,
        bus,
        keepers,
    } = tabs(3);
    platform.advance(secs(840)); // every tab's timer fires
    assert_eq!(
        server.calls.get(),
        1,
        "one tab asks; the others wait their turn"
    );
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    // The first tab let go after posting; the next got the turn before the
    // news arrived, and waits for it instead of asking the server.
    assert_eq!(server.calls.get(), 1);
    bus.deliver();
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1);
    for keeper in &keepers {
        assert_eq!(keeper.token(), "t2");
        assert_eq!(keeper.snapshot().status, TokenStatus::Valid);
    }
    assert_eq!(
        keepers[0].snapshot().last_reason,
        Some(RefreshReason::Timer)
    );
    assert_eq!(keepers[1].snapshot().last_reason, Some(RefreshReason::Tab));
    // And the next round is one call again, 840 s on.
    platform.advance(secs(840));
    assert_eq!(server.calls.get(), 2);
}

#[test]
fn news_that_arrives_before_the_turn_is_taken_without_waiting() {
    let Scene {
        platform,
        server,
        bus,
        keepers,
    } = tabs(2);
    platform.advance(secs(840));
    // The first tab lets go, but the turn reaches the next one only after
    // the news does.
    bus.paused.set(true);
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    bus.deliver();
    bus.resume();
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1);
    assert_eq!(keepers[1].token(), "t2");
    assert_eq!(
        platform.pending_timers(),
        2,
        "each tab's next refresh, no grace timer"
    );
}

#[test]
fn a_tab_that_closed_mid_refresh_costs_the_next_one_only_the_grace() {
    let Scene {
        platform,
        server,
        bus,
        keepers,
    } = tabs(2);
    platform.advance(secs(840));
    // The first tab goes away while its handler runs: no news, ever.
    let mut keepers = keepers;
    drop(keepers.remove(0));
    server.answer(Ok(token("lost", secs(900))));
    platform.run_tasks();
    bus.lose_mail();
    platform.advance(NEWS_GRACE - std::time::Duration::from_millis(1));
    assert_eq!(server.calls.get(), 1);
    platform.advance(std::time::Duration::from_millis(1));
    assert_eq!(
        server.calls.get(),
        2,
        "after the grace the waiting tab asks itself"
    );
}

#[test]
fn a_failed_refresh_is_shared_and_every_tab_backs_off_without_asking() {
    let Scene {
        platform,
        server,
        bus,
        keepers,
    } = tabs(2);
    platform.advance(secs(840));
    server.answer(Err("merchant server down".into()));
    platform.run_tasks();
    bus.deliver();
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1);
    for keeper in &keepers {
        assert!(matches!(
            keeper.snapshot().status,
            TokenStatus::Expired { error: SdkError::RefreshFailed(ref m), retry_in: Some(_) }
                if m == "merchant server down"
        ));
    }
    // The retry round is one call again: the tabs back off in step.
    platform.advance(secs(1));
    assert_eq!(server.calls.get(), 2);
}

#[test]
fn through_a_long_outage_the_tabs_of_one_checkout_retry_as_one() {
    let Scene {
        platform,
        server,
        bus,
        keepers: _keepers,
    } = tabs(2);
    // Every call fails, as soon as it is made.
    let fail_any = || loop {
        platform.run_tasks();
        if server.replies_waiting() == 0 {
            break;
        }
        server.answer(Err("vendor down".into()));
        platform.run_tasks();
        bus.deliver();
    };
    platform.advance(secs(840));
    fail_any();
    for _ in 0..31 {
        platform.advance(secs(1));
        fail_any();
    }
    assert_eq!(
        server.calls.get(),
        6,
        "the first call and five quick retries"
    );
    // Then slow retries, 30–60 s apart at random. Were each tab to draw its
    // own delay, one would wait 30 s and the other 60 s, and the checkout
    // would make two calls a round; the tab that tried says when it tries
    // next, and the other keeps to that.
    platform.will_draw(&[0.0, 1.0].repeat(50));
    for _ in 0..600 {
        platform.advance(secs(1));
        fail_any();
    }
    let slow = server.calls.get() - 6;
    // 30 and 60 s in turn: 13 or 14 tries in ten minutes, not 20-odd.
    assert!((13..=14).contains(&slow), "{slow} calls in 600 s");
}

#[test]
fn a_failure_in_another_tab_does_not_disturb_an_idle_tab() {
    let Scene {
        platform,
        server: _server,
        bus: _bus,
        keepers,
    } = tabs(1);
    keepers[0].hear(TabNews::Failed {
        message: "elsewhere".into(),
        retry_in_ms: Some(1_000),
        permanent: false,
        stop_reason: None,
    });
    platform.run_tasks();
    assert_eq!(keepers[0].snapshot().status, TokenStatus::Valid);
    assert_eq!(keepers[0].token(), "t1");
}

#[test]
fn a_refusal_for_good_is_shared_and_every_tab_stops_asking() {
    let Scene {
        platform,
        server,
        bus,
        keepers,
    } = tabs(2);
    platform.advance(secs(840));
    server.answer(Err(crate::RefreshError::stop(
        crate::StopReason::NotLoggedIn,
        "Please log in to continue.",
    )));
    platform.run_tasks();
    bus.deliver();
    platform.run_tasks();
    for keeper in &keepers {
        assert!(matches!(
            keeper.snapshot().status,
            TokenStatus::Expired {
                error: SdkError::RefreshRefused { reason: crate::StopReason::NotLoggedIn, ref message },
                retry_in: None,
            } if message == "Please log in to continue."
        ));
    }
    assert_eq!(platform.pending_timers(), 0);
    platform.advance(secs(3600));
    assert_eq!(server.calls.get(), 1);
}

#[test]
fn a_tab_opening_while_another_refreshes_takes_its_token_without_a_call() {
    let Scene {
        platform,
        server,
        bus,
        keepers,
    } = tabs(1);
    platform.advance(secs(840)); // the open tab's timer fires: its turn
    assert_eq!(server.calls.get(), 1);
    let tabs: Rc<dyn Tabs> = Rc::new(FakeTabs {
        bus: bus.clone(),
        me: 1,
    });
    let opening = Keeper::connect(
        platform.clone(),
        server.handler(),
        KeeperOptions {
            tabs: Some(tabs),
            ..options(Some(server.handler()))
        },
    );
    bus.members.borrow_mut().push(Rc::downgrade(&opening));
    platform.run_tasks(); // waits for the turn
    server.answer(Ok(token("t2", secs(900))));
    platform.run_tasks();
    bus.deliver();
    platform.run_tasks();
    assert_eq!(server.calls.get(), 1);
    assert_eq!(opening.token(), "t2");
    let state = opening.snapshot();
    assert!(state.opened);
    assert_eq!(state.refresh_count, 0);
    assert_eq!(keepers[0].token(), "t2");
}

#[test]
fn a_tab_that_opens_on_its_own_tells_the_others_nothing() {
    let Scene {
        platform,
        server,
        bus,
        keepers,
    } = tabs(1);
    let tabs: Rc<dyn Tabs> = Rc::new(FakeTabs {
        bus: bus.clone(),
        me: 1,
    });
    let opening = Keeper::connect(
        platform.clone(),
        server.handler(),
        KeeperOptions {
            tabs: Some(tabs),
            ..options(Some(server.handler()))
        },
    );
    platform.run_tasks();
    server.answer(Ok(token("t1", secs(890))));
    platform.run_tasks();
    assert!(opening.snapshot().opened);
    assert!(bus.in_transit.borrow().is_empty());
    assert_eq!(keepers[0].snapshot().refresh_count, 0);
}
