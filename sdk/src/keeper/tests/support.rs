//! The simulated platform (`crate::testing`, the one a merchant's tests
//! use too), and a merchant server the test answers by hand.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::FutureExt;

use crate::error::RefreshError;
use crate::keeper::{
    ExpiryHandler, Keeper, KeeperOptions, RefreshContext, DEFAULT_IDLE_AFTER,
    DEFAULT_MIN_REFRESH_INTERVAL,
};
use crate::tabs::Tabs;
pub use crate::testing::SimulatedPlatform;
use crate::types::AccessToken;

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
pub fn keeper(platform: &SimulatedPlatform, server: &Rc<Server>) -> Rc<Keeper<SimulatedPlatform>> {
    keeper_with_tabs(platform, server, None)
}

pub fn keeper_with_tabs(
    platform: &SimulatedPlatform,
    server: &Rc<Server>,
    tabs: Option<Rc<dyn Tabs>>,
) -> Rc<Keeper<SimulatedPlatform>> {
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
