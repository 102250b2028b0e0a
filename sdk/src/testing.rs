//! For tests of what is built on the SDK, natively, without a browser
//! (feature `testing`): the simulated platform the SDK's own tests run its
//! keeper on. A merchant tests their expiry handler, and what their page
//! does with the keeper, the way the SDK tests itself.
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! use checkout_sdk::testing::SimulatedPlatform;
//! use checkout_sdk::{
//!     AccessToken, ExpiryHandler, Keeper, KeeperOptions, RefreshReason,
//!     DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_REFRESH_MARGIN,
//! };
//! use futures::FutureExt;
//!
//! let token = |name: &str| AccessToken {
//!     token: name.to_owned(),
//!     expires_in: Duration::from_secs(900),
//! };
//! // The handler under test (yours would call your server).
//! let asked = Rc::new(RefCell::new(Vec::new()));
//! let handler: ExpiryHandler = Rc::new({
//!     let asked = asked.clone();
//!     move |context| {
//!         asked.borrow_mut().push(context.reason);
//!         async move { Ok(token("t2")) }.boxed_local()
//!     }
//! });
//! let platform = SimulatedPlatform::new();
//! let keeper = Keeper::new(
//!     platform.clone(),
//!     token("t1"),
//!     KeeperOptions {
//!         handler: Some(handler),
//!         margin: DEFAULT_REFRESH_MARGIN,
//!         min_interval: DEFAULT_MIN_REFRESH_INTERVAL,
//!         idle_after: None,
//!         listener: None,
//!         tabs: None,
//!     },
//! );
//! // A 900 s token is refreshed 60 s before it expires, not sooner.
//! platform.advance(Duration::from_secs(839));
//! assert!(asked.borrow().is_empty());
//! platform.advance(Duration::from_secs(1));
//! assert_eq!(*asked.borrow(), [RefreshReason::Timer]);
//! assert_eq!(keeper.snapshot().refresh_count, 1);
//! ```

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use futures::executor::LocalPool;
use futures::future::LocalBoxFuture;
use futures::task::LocalSpawnExt;

use crate::platform::Platform;

type Callback = Box<dyn FnOnce()>;

/// A [`Platform`] whose clock moves only when the test says
/// ([`SimulatedPlatform::advance`]), whose timers fire in order as it
/// passes, and whose tasks run on a local executor. Clones share it.
#[derive(Clone)]
pub struct SimulatedPlatform(Rc<Inner>);

struct Inner {
    now: Cell<Duration>,
    next_id: Cell<u64>,
    /// Due time and id → callback; the id keeps equal times in order.
    timers: RefCell<BTreeMap<(Duration, u64), Callback>>,
    pool: RefCell<LocalPool>,
    /// What `random` returns next; 0.5 when empty.
    randoms: RefCell<std::collections::VecDeque<f64>>,
}

/// A timer of the [`SimulatedPlatform`]: dropped, it never fires.
pub struct SimulatedTimer {
    key: (Duration, u64),
    platform: SimulatedPlatform,
}

impl Drop for SimulatedTimer {
    fn drop(&mut self) {
        self.platform.0.timers.borrow_mut().remove(&self.key);
    }
}

impl Platform for SimulatedPlatform {
    type Timer = SimulatedTimer;

    fn now(&self) -> Duration {
        self.0.now.get()
    }

    fn timer(&self, after: Duration, f: Box<dyn FnOnce()>) -> SimulatedTimer {
        let id = self.0.next_id.get();
        self.0.next_id.set(id + 1);
        let key = (self.now() + after, id);
        self.0.timers.borrow_mut().insert(key, f);
        SimulatedTimer {
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

impl Default for SimulatedPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedPlatform {
    /// The next values `random` returns, in order.
    pub fn will_draw(&self, values: &[f64]) {
        self.0.randoms.borrow_mut().extend(values);
    }

    /// Its clock at zero, nothing pending.
    pub fn new() -> Self {
        Self(Rc::new(Inner {
            now: Cell::new(Duration::ZERO),
            next_id: Cell::new(0),
            timers: RefCell::default(),
            pool: RefCell::new(LocalPool::new()),
            randoms: RefCell::default(),
        }))
    }

    /// Runs the spawned tasks until none can go on.
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

    /// Timers armed and not yet fired or dropped.
    pub fn pending_timers(&self) -> usize {
        self.0.timers.borrow().len()
    }
}
