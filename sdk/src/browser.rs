//! The browser's part: waking the keeper when a hidden or sleeping tab comes
//! back (its timers were throttled), and sharing refreshed tokens between
//! tabs of the same checkout with a `BroadcastChannel`. Listeners are removed
//! when these are dropped.

use std::rc::{Rc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::keeper::{Keeper, RefreshReason};
use crate::platform::Browser;
use crate::types::AccessToken;

/// `visibilitychange` (on the document), `focus` and `online` (on the
/// window), each asking the keeper whether a refresh is due.
pub struct Wakeups {
    listeners: Vec<(web_sys::EventTarget, &'static str, Closure<dyn Fn()>)>,
}

impl Wakeups {
    pub fn listen(keeper: &Rc<Keeper<Browser>>) -> Option<Self> {
        let window = web_sys::window()?;
        let document = window.document()?;
        let targets: [(web_sys::EventTarget, &'static str); 3] = [
            (document.into(), "visibilitychange"),
            (window.clone().into(), "focus"),
            (window.into(), "online"),
        ];
        let mut listeners = Vec::new();
        for (target, event) in targets {
            let weak: Weak<Keeper<Browser>> = Rc::downgrade(keeper);
            let closure = Closure::<dyn Fn()>::new(move || {
                if let Some(keeper) = weak.upgrade() {
                    keeper.check(RefreshReason::Visibility);
                }
            });
            if target
                .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
                .is_ok()
            {
                listeners.push((target, event, closure));
            }
        }
        Some(Self { listeners })
    }
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        for (target, event, closure) in &self.listeners {
            let _ =
                target.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Shared {
    token: String,
    expires_in_ms: u64,
}

/// One `BroadcastChannel` per checkout. Tokens cross it only between tabs
/// of the same origin, in the same browser profile.
pub struct TabChannel {
    channel: web_sys::BroadcastChannel,
    listener: std::cell::RefCell<Option<Closure<dyn Fn(web_sys::MessageEvent)>>>,
}

impl TabChannel {
    pub fn open(name: &str) -> Option<Self> {
        let channel = web_sys::BroadcastChannel::new(&format!("checkout-token:{name}")).ok()?;
        Some(Self {
            channel,
            listener: Default::default(),
        })
    }

    pub fn share(&self, token: &AccessToken) {
        let message = Shared {
            token: token.token.clone(),
            expires_in_ms: token.expires_in.as_millis() as u64,
        };
        if let Ok(json) = serde_json::to_string(&message) {
            let _ = self.channel.post_message(&json.into());
        }
    }

    /// Tokens other tabs share go to `keeper`, which keeps the longer-lived one.
    pub fn deliver_to(&self, keeper: &Rc<Keeper<Browser>>) {
        let weak: Weak<Keeper<Browser>> = Rc::downgrade(keeper);
        let closure =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let Some(keeper) = weak.upgrade() else { return };
                let Some(json) = event.data().as_string() else {
                    return;
                };
                if let Ok(shared) = serde_json::from_str::<Shared>(&json) {
                    keeper.adopt(AccessToken {
                        token: shared.token,
                        expires_in: Duration::from_millis(shared.expires_in_ms),
                    });
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
