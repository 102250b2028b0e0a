//! What the token keeper needs from its surroundings — a monotonic clock,
//! cancellable timers and a way to run tasks — so that the browser provides
//! them in the page and a simulated platform provides them in native tests.

use std::time::Duration;

use futures::future::LocalBoxFuture;

pub trait Platform: 'static {
    /// Cancels its timer when dropped.
    type Timer;

    /// Time since some fixed start; only differences matter. Never the wall
    /// clock: the browser's may be minutes off the vendor's.
    fn now(&self) -> Duration;

    /// Runs `f` once, `after` from now, unless the returned timer is dropped first.
    fn timer(&self, after: Duration, f: Box<dyn FnOnce()>) -> Self::Timer;

    /// Runs `task` to completion in the background.
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);
}

/// The browser: `performance.now()`, `setTimeout` (gloo-timers) and
/// `spawn_local`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Browser;

/// `setTimeout` treats delays above 2^31-1 ms as 0 and fires at once.
const MAX_TIMEOUT_MS: u128 = i32::MAX as u128;

impl Platform for Browser {
    type Timer = gloo_timers::callback::Timeout;

    fn now(&self) -> Duration {
        let millis = web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now());
        Duration::from_secs_f64(millis.max(0.0) / 1000.0)
    }

    fn timer(&self, after: Duration, f: Box<dyn FnOnce()>) -> Self::Timer {
        gloo_timers::callback::Timeout::new(after.as_millis().min(MAX_TIMEOUT_MS) as u32, f)
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}
