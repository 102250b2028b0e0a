//! [`CheckoutClient`]: the token holder and the vendor API caller.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gloo_timers::callback::Timeout;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::SdkError;
use crate::schedule::{refresh_delay, DEFAULT_REFRESH_MARGIN};
use crate::types::{AccessToken, Invoice};

/// Asks the merchant's server for a new checkout token. An error is a
/// sentence for the person at the page.
pub type ExpiryHandler = Rc<dyn Fn() -> LocalBoxFuture<'static, Result<AccessToken, String>>>;

/// Why a token was refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshReason {
    /// The timer fired a margin before expiry.
    Timer,
    /// The vendor answered `access_token_expired`.
    Expired,
}

/// What happened to the token, for a page that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenEvent {
    Refreshed {
        reason: RefreshReason,
        expires_in: Duration,
    },
    RefreshFailed {
        reason: RefreshReason,
        error: SdkError,
    },
}

pub struct Options {
    /// The vendor API base URL the token is valid for.
    pub api_url: String,
    /// Called for a new token when the current one is due or has expired.
    pub on_access_token_expired: Option<ExpiryHandler>,
    pub refresh_margin: Duration,
    /// Told of every refresh and failed refresh.
    pub on_token_event: Option<Rc<dyn Fn(TokenEvent)>>,
}

impl Options {
    pub fn new(api_url: impl Into<String>) -> Self {
        Self {
            api_url: api_url.into().trim_end_matches('/').to_owned(),
            on_access_token_expired: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            on_token_event: None,
        }
    }
}

type Flight = Shared<LocalBoxFuture<'static, Result<(), SdkError>>>;

/// Holds the checkout token and calls the vendor's checkout API with it.
///
/// Clones share one token. When the last clone is dropped, its refresh timer
/// is cancelled with it.
#[derive(Clone)]
pub struct CheckoutClient {
    inner: Rc<Inner>,
}

struct Inner {
    options: Options,
    token: RefCell<String>,
    /// Dropping a `Timeout` cancels it: replacing this field reschedules.
    timer: RefCell<Option<Timeout>>,
    /// The refresh in progress, shared by every caller that needs it.
    refreshing: RefCell<Option<Flight>>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// `setTimeout` treats delays above 2^31-1 ms as 0 and fires at once.
const MAX_TIMEOUT_MS: u128 = i32::MAX as u128;

impl CheckoutClient {
    pub fn new(token: AccessToken, options: Options) -> Self {
        let client = Self {
            inner: Rc::new(Inner {
                token: RefCell::new(token.token),
                options,
                timer: RefCell::new(None),
                refreshing: RefCell::new(None),
            }),
        };
        schedule(&client.inner, token.expires_in);
        client
    }

    /// `GET /checkout/v1/invoice`: the invoice the token is scoped to.
    pub async fn invoice(&self) -> Result<Invoice, SdkError> {
        self.get("/checkout/v1/invoice").await
    }

    /// Refreshes now, or joins the refresh already under way.
    pub async fn refresh(&self, reason: RefreshReason) -> Result<(), SdkError> {
        refresh(&self.inner, reason).await
    }

    /// A GET with the current token; after `access_token_expired`, one
    /// refresh and one retry.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, SdkError> {
        let used = self.inner.token.borrow().clone();
        match self.get_once(path, &used).await {
            Err(SdkError::AccessTokenExpired) => {
                // Another call may have refreshed while this one was in flight.
                if *self.inner.token.borrow() == used {
                    self.refresh(RefreshReason::Expired).await?;
                }
                let current = self.inner.token.borrow().clone();
                self.get_once(path, &current).await
            }
            other => other,
        }
    }

    async fn get_once<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<T, SdkError> {
        let url = format!("{}{}", self.inner.options.api_url, path);
        let response = gloo_net::http::Request::get(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .send()
            .await
            .map_err(|e| SdkError::Unavailable(e.to_string()))?;
        let status = response.status();
        if (200..300).contains(&status) {
            return response
                .json::<T>()
                .await
                .map_err(|e| SdkError::Malformed(e.to_string()));
        }
        let body: ErrorBody = response.json().await.unwrap_or_default();
        Err(classify(status, body))
    }
}

fn classify(status: u16, body: ErrorBody) -> SdkError {
    match status {
        401 if body.code == "access_token_expired" => SdkError::AccessTokenExpired,
        500.. => SdkError::Unavailable(format!("HTTP {status}")),
        _ => SdkError::Rejected {
            status,
            code: body.code,
            message: body.message,
        },
    }
}

fn refresh(
    inner: &Rc<Inner>,
    reason: RefreshReason,
) -> LocalBoxFuture<'static, Result<(), SdkError>> {
    let Some(handler) = inner.options.on_access_token_expired.clone() else {
        return async { Err(SdkError::AccessTokenExpired) }.boxed_local();
    };
    let existing = inner.refreshing.borrow().clone();
    let flight = existing.unwrap_or_else(|| {
        let weak = Rc::downgrade(inner);
        let flight = async move {
            let result = handler().await;
            // The client may have been dropped while the handler ran.
            let Some(inner) = weak.upgrade() else {
                return Ok(());
            };
            inner.refreshing.replace(None);
            let outcome = match result {
                Ok(token) => {
                    let expires_in = token.expires_in;
                    inner.token.replace(token.token);
                    schedule(&inner, expires_in);
                    Ok(TokenEvent::Refreshed { reason, expires_in })
                }
                Err(message) => Err(SdkError::RefreshFailed(message)),
            };
            notify(&inner, &outcome, reason);
            outcome.map(|_| ())
        }
        .boxed_local()
        .shared();
        inner.refreshing.replace(Some(flight.clone()));
        flight
    });
    flight.boxed_local()
}

fn notify(inner: &Inner, outcome: &Result<TokenEvent, SdkError>, reason: RefreshReason) {
    if let Some(listener) = &inner.options.on_token_event {
        listener(match outcome {
            Ok(event) => event.clone(),
            Err(error) => TokenEvent::RefreshFailed {
                reason,
                error: error.clone(),
            },
        });
    }
}

/// Arms the refresh timer for a token with `expires_in` left. Without a
/// handler there is nothing to refresh with, so no timer.
fn schedule(inner: &Rc<Inner>, expires_in: Duration) {
    if inner.options.on_access_token_expired.is_none() {
        return;
    }
    let delay = refresh_delay(expires_in, inner.options.refresh_margin);
    let weak: Weak<Inner> = Rc::downgrade(inner);
    let timeout = Timeout::new(delay.as_millis().min(MAX_TIMEOUT_MS) as u32, move || {
        if let Some(inner) = weak.upgrade() {
            wasm_bindgen_futures::spawn_local(async move {
                // A failure is reported through `on_token_event`.
                let _ = refresh(&inner, RefreshReason::Timer).await;
            });
        }
    });
    inner.timer.replace(Some(timeout));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_expired_401_asks_for_a_refresh() {
        let body = |code: &str| ErrorBody {
            code: code.into(),
            message: String::new(),
        };
        assert_eq!(
            classify(401, body("access_token_expired")),
            SdkError::AccessTokenExpired
        );
        assert!(matches!(
            classify(401, body("invalid_token")),
            SdkError::Rejected { status: 401, .. }
        ));
        assert!(matches!(
            classify(403, body("insufficient_scope")),
            SdkError::Rejected { .. }
        ));
        assert!(matches!(classify(503, body("")), SdkError::Unavailable(_)));
    }
}
