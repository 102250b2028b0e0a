//! A fake platform whose clock moves only when the test says, whose timers
//! fire in order as it does, and whose tasks run on a local executor; and a
//! merchant server the test answers by hand.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use futures::executor::LocalPool;
use futures::future::{FutureExt, LocalBoxFuture};
use futures::task::LocalSpawnExt;

use crate::error::RefreshError;
use crate::keeper::{
    ExpiryHandler, Keeper, KeeperOptions, RefreshContext, DEFAULT_IDLE_AFTER,
    DEFAULT_MIN_REFRESH_INTERVAL,
};
use crate::platform::Platform;
use crate::tabs::Tabs;
use crate::types::AccessToken;

type Callback = Box<dyn FnOnce()>;

#[derive(Clone)]
pub struct FakePlatform(Rc<Inner>);

pub struct Inner {
    now: Cell<Duration>,
    next_id: Cell<u64>,
    /// Due time and id → callback; the id keeps equal times in order.
    timers: RefCell<BTreeMap<(Duration, u64), Callback>>,
    pool: RefCell<LocalPool>,
    /// What `random` returns next; 0.5 when empty.
    randoms: RefCell<std::collections::VecDeque<f64>>,
}

pub struct FakeTimer {
    key: (Duration, u64),
    platform: FakePlatform,
}

impl Drop for FakeTimer {
    fn drop(&mut self) {
        self.platform.0.timers.borrow_mut().remove(&self.key);
    }
}

impl Platform for FakePlatform {
    type Timer = FakeTimer;

    fn now(&self) -> Duration {
        self.0.now.get()
    }

    fn timer(&self, after: Duration, f: Box<dyn FnOnce()>) -> FakeTimer {
        let id = self.0.next_id.get();
        self.0.next_id.set(id + 1);
        let key = (self.now() + after, id);
        self.0.timers.borrow_mut().insert(key, f);
        FakeTimer {
            key,
            platform: self.clone(),
        }
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.0.pool.borrow().spawner().spawn_local(task).unwrap();
    }

    /// The values given to `will_draw`, then the middle of the range.
    fn random(&self) -> f64 {
        self.0.randoms.borrow_mut().pop_front().unwrap_or(0.5)
    }
}

impl FakePlatform {
    /// The next values `random` returns, in order.
    pub fn will_draw(&self, values: &[f64]) {
        self.0.randoms.borrow_mut().extend(values);
    }

    pub fn new() -> Self {
        Self(Rc::new(Inner {
            now: Cell::new(Duration::ZERO),
            next_id: Cell::new(0),
            timers: RefCell::default(),
            pool: RefCell::new(LocalPool::new()),
            randoms: RefCell::default(),
        }))
    }

    pub fn run_tasks(&self) {
        self.0.pool.borrow_mut().run_until_stalled();
    }

    /// Moves time forward, firing due timers in order and running what they start.
    pub fn advance(&self, by: Duration) {
        let until = self.now() + by;
        loop {
            self.run_tasks();
            let due = {
                let mut timers = self.0.timers.borrow_mut();
                let first = timers.keys().next().copied().filter(|(at, _)| *at <= until);
                first.and_then(|key| timers.remove(&key).map(|f| (key.0, f)))
            };
            let Some((at, fire)) = due else { break };
            self.0.now.set(at);
            fire();
        }
        self.0.now.set(until);
        self.run_tasks();
    }

    /// Time passes and no timer runs: a throttled or sleeping tab.
    pub fn skip_to(&self, at: Duration) {
        self.0.now.set(at);
    }

    pub fn pending_timers(&self) -> usize {
        self.0.timers.borrow().len()
    }
}

pub const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn token(name: &str, expires_in: Duration) -> AccessToken {
    AccessToken {
        token: name.to_owned(),
        expires_in,
    }
}

/// A handler whose answers the test gives, one per call, and which counts calls.
pub struct Server {
    pub calls: Cell<u32>,
    /// What each call was told, in order.
    pub contexts: RefCell<Vec<RefreshContext>>,
    replies: RefCell<Vec<oneshot::Sender<Result<AccessToken, RefreshError>>>>,
}

impl Server {
    pub fn handler(self: &Rc<Self>) -> ExpiryHandler {
        let server = self.clone();
        Rc::new(move |context| {
            server.calls.set(server.calls.get() + 1);
            server.contexts.borrow_mut().push(context);
            let (reply, answer) = oneshot::channel();
            server.replies.borrow_mut().push(reply);
            async move { answer.await.unwrap_or_else(|_| Err("server gone".into())) }.boxed_local()
        })
    }

    /// Calls made and not yet answered.
    pub fn replies_waiting(&self) -> usize {
        self.replies.borrow().len()
    }

    pub fn answer(&self, result: Result<AccessToken, RefreshError>) {
        let reply = self.replies.borrow_mut().remove(0);
        let _ = reply.send(result);
    }
}

/// A 60 s margin, the default floor and idle time, no listener, no other
/// tabs.
pub fn options(handler: Option<ExpiryHandler>) -> KeeperOptions {
    KeeperOptions {
        handler,
        margin: secs(60),
        min_interval: DEFAULT_MIN_REFRESH_INTERVAL,
        idle_after: Some(DEFAULT_IDLE_AFTER),
        listener: None,
        tabs: None,
    }
}

/// A keeper with a 900 s token "t1" and `server` as its handler.
pub fn keeper(platform: &FakePlatform, server: &Rc<Server>) -> Rc<Keeper<FakePlatform>> {
    keeper_with_tabs(platform, server, None)
}

pub fn keeper_with_tabs(
    platform: &FakePlatform,
    server: &Rc<Server>,
    tabs: Option<Rc<dyn Tabs>>,
) -> Rc<Keeper<FakePlatform>> {
    Keeper::new(
        platform.clone(),
        token("t1", secs(900)),
        KeeperOptions {
            tabs,
            ..options(Some(server.handler()))
        },
    )
}

pub fn server() -> Rc<Server> {
    Rc::new(Server {
        calls: Cell::new(0),
        contexts: RefCell::default(),
        replies: RefCell::default(),
    })
}
