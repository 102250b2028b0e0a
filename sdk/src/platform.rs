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

    /// A number in [0, 1), to spread retries: pages that failed together
    /// should not all try again at the same moment.
    fn random(&self) -> f64;
}

/// The browser: `setTimeout` (gloo-timers), `spawn_local`, and a clock
/// that is the later of two: `performance.now()` (monotonic, but on some
/// systems it stops while the machine sleeps) and `Date.now()` (counts the
/// sleep, but jumps when the clock is set). Taking the later one can only
/// make a refresh earlier, never let a token lapse unnoticed after a sleep.
#[derive(Debug, Clone)]
pub struct Browser {
    started_perf_ms: f64,
    started_wall_ms: f64,
    latest: std::cell::Cell<Duration>,
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            started_perf_ms: perf_now_ms(),
            started_wall_ms: js_sys::Date::now(),
            latest: std::cell::Cell::new(Duration::ZERO),
        }
    }
}

fn perf_now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// `setTimeout` treats delays above 2^31-1 ms as 0 and fires at once.
const MAX_TIMEOUT_MS: u128 = i32::MAX as u128;

impl Platform for Browser {
    type Timer = gloo_timers::callback::Timeout;

    fn now(&self) -> Duration {
        let perf = perf_now_ms() - self.started_perf_ms;
        let wall = js_sys::Date::now() - self.started_wall_ms;
        let elapsed = Duration::from_secs_f64(perf.max(wall).max(0.0) / 1000.0);
        // Never backwards, whatever the wall clock does.
        let now = elapsed.max(self.latest.get());
        self.latest.set(now);
        now
    }

    fn timer(&self, after: Duration, f: Box<dyn FnOnce()>) -> Self::Timer {
        gloo_timers::callback::Timeout::new(after.as_millis().min(MAX_TIMEOUT_MS) as u32, f)
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
