//! The browser's part: waking the keeper when a hidden or sleeping tab comes
//! back (its timers were throttled), and the tabs of one checkout taking
//! turns to refresh (Web Locks) and sharing the outcome (`BroadcastChannel`).
//! Listeners are removed when these are dropped or closed.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::channel::oneshot;
use futures::future::{self, Either, FutureExt, LocalBoxFuture};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::keeper::{Keeper, RefreshReason};
use crate::platform::Browser;
use crate::tabs::{TabNews, Tabs, Turn};

/// The events after which a tab's timers may have been throttled, paused or
/// frozen, each asking the keeper whether a refresh is due:
/// `visibilitychange` and `resume` (Page Lifecycle: a frozen tab thawed) on
/// the document; `focus`, `pageshow` (a page restored from the back/forward
/// cache) and `online` (which also cuts a running backoff short) on the
/// window. And the signs of a person, for the idle rule: visibility,
/// focus, `keydown` and `pointerdown`.
pub struct Wakeups {
    listeners: Vec<Listener>,
}

/// What to remove on drop: where, which event, and the callback.
type Listener = (web_sys::EventTarget, &'static str, Closure<dyn Fn()>);

/// What an event asks of the keeper.
type Wake = fn(&Rc<Keeper<Browser>>);

impl Wakeups {
    pub fn listen(keeper: &Rc<Keeper<Browser>>) -> Option<Self> {
        let window = web_sys::window()?;
        let document: web_sys::EventTarget = window.document()?.into();
        let window: web_sys::EventTarget = window.into();
        let check: Wake = |keeper| keeper.check(RefreshReason::Visibility);
        let shown: Wake = |keeper| {
            keeper.visibility(is_hidden());
            keeper.check(RefreshReason::Visibility);
        };
        let focus: Wake = |keeper| {
            keeper.active();
            keeper.check(RefreshReason::Visibility);
        };
        let input: Wake = |keeper| keeper.active();
        let online: Wake = |keeper| keeper.back_online();
        let targets: [(&web_sys::EventTarget, &'static str, Wake); 7] = [
            (&document, "visibilitychange", shown),
            (&document, "resume", check),
            (&window, "focus", focus),
            (&window, "pageshow", check),
            (&window, "online", online),
            (&window, "keydown", input),
            (&window, "pointerdown", input),
        ];
        keeper.visibility(is_hidden());
        let mut listeners = Vec::new();
        for (target, event, wake) in targets {
            let weak: Weak<Keeper<Browser>> = Rc::downgrade(keeper);
            let closure = Closure::<dyn Fn()>::new(move || {
                if let Some(keeper) = weak.upgrade() {
                    wake(&keeper);
                }
            });
            if target
                .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
                .is_ok()
            {
                listeners.push((target.clone(), event, closure));
            }
        }
        Some(Self { listeners })
    }
}

fn is_hidden() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| document.hidden())
}

/// Whether the browser says it has no network: then a request that got no
/// answer never left the machine, and the page should say "offline", not
/// "the provider is not responding".
pub fn is_offline() -> bool {
    web_sys::window().is_some_and(|window| !window.navigator().on_line())
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        for (target, event, closure) in &self.listeners {
            let _ =
                target.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
    }
}

/// The tabs of one checkout: a Web Lock named after it decides whose turn
/// it is to refresh, a `BroadcastChannel` of the same name carries the news.
/// Tokens cross only between tabs of the same origin in the same browser
/// profile, and only in memory.
pub struct BrowserTabs {
    lock_name: String,
    channel: web_sys::BroadcastChannel,
    listener: RefCell<Option<OnMessage>>,
}

type OnMessage = Closure<dyn Fn(web_sys::MessageEvent)>;

impl BrowserTabs {
    pub fn open(name: &str) -> Option<Self> {
        let name = format!("checkout-token:{name}");
        let channel = web_sys::BroadcastChannel::new(&name).ok()?;
        Some(Self {
            lock_name: name,
            channel,
            listener: Default::default(),
        })
    }

    /// News other tabs post goes to `keeper`.
    pub fn deliver_to(&self, keeper: &Rc<Keeper<Browser>>) {
        let weak: Weak<Keeper<Browser>> = Rc::downgrade(keeper);
        let closure = OnMessage::new(move |event: web_sys::MessageEvent| {
            let Some(keeper) = weak.upgrade() else { return };
            let Some(json) = event.data().as_string() else {
                return;
            };
            // Anything else on the channel is not ours to act on.
            if let Ok(news) = serde_json::from_str::<TabNews>(&json) {
                keeper.hear(news);
            }
        });
        self.channel
            .set_onmessage(Some(closure.as_ref().unchecked_ref()));
        *self.listener.borrow_mut() = Some(closure);
    }

    pub fn close(&self) {
        self.channel.set_onmessage(None);
        self.channel.close();
        self.listener.borrow_mut().take();
    }
}

impl Tabs for BrowserTabs {
    fn turn(&self) -> LocalBoxFuture<'static, Turn> {
        let name = self.lock_name.clone();
        async move {
            let Some(locks) = lock_manager() else {
                // No Web Locks (an old browser): the news alone shares tokens.
                return Turn::alone();
            };
            // First ask without waiting, to learn whether another tab holds it.
            match request_lock(&locks, &name, true).await {
                Some(Some(release)) => Turn::new(false, release),
                Some(None) => match request_lock(&locks, &name, false).await {
                    Some(Some(release)) => Turn::new(true, release),
                    _ => Turn::alone(),
                },
                None => Turn::alone(),
            }
        }
        .boxed_local()
    }

    fn tell(&self, news: &TabNews) {
        if let Ok(json) = serde_json::to_string(news) {
            let _ = self.channel.post_message(&json.into());
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks` (web-sys has it only behind an unstable flag).
    type LockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &JsValue,
        callback: &js_sys::Function,
    ) -> js_sys::Promise;
}

fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

type Release = Box<dyn FnOnce()>;

/// Requests the lock `name`. `Some(Some(release))`: held until `release`
/// runs; `Some(None)`: `if_available` and another tab holds it; `None`: the
/// browser refused the request (then there is no lock to respect).
async fn request_lock(
    locks: &LockManager,
    name: &str,
    if_available: bool,
) -> Option<Option<Release>> {
    let (granted, grant) = oneshot::channel::<Option<Release>>();
    let callback = Closure::once_into_js(move |lock: JsValue| -> js_sys::Promise {
        if lock.is_null() {
            let _ = granted.send(None);
            return js_sys::Promise::resolve(&JsValue::UNDEFINED);
        }
        // The lock is held until the promise returned here settles.
        let mut resolve = None;
        let held = js_sys::Promise::new(&mut |res, _| resolve = Some(res));
        let resolve = resolve.expect("the executor runs at once");
        let release: Release = Box::new(move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        });
        if let Err(Some(release)) = granted.send(Some(release)) {
            release(); // nobody waits any more: pass it on at once
        }
        held
    });
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"ifAvailable".into(), &if_available.into());
    let request = locks.request(name, &options, callback.unchecked_ref());
    // The request's promise settles only after release, or at once when the
    // browser refuses it (no callback then): either way, stop waiting.
    let settled = wasm_bindgen_futures::JsFuture::from(request);
    match future::select(grant, settled).await {
        Either::Left((grant, _)) => grant.ok(),
        Either::Right(_) => None,
    }
}
