//! [`CheckoutClient`]: the vendor's checkout API, called with the token the
//! [`Keeper`] holds, in the browser.

use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::browser::{BrowserTabs, Wakeups};
use crate::error::SdkError;
use crate::keeper::{
    ExpiryHandler, Keeper, KeeperOptions, RefreshReason, StateListener, TokenState,
    DEFAULT_IDLE_AFTER, DEFAULT_MIN_REFRESH_INTERVAL,
};
use crate::platform::Browser;
use crate::schedule::DEFAULT_REFRESH_MARGIN;
use crate::tabs::Tabs;
use crate::types::{AccessToken, Invoice, Payment, PaymentMethod, PaymentRequest, PdfLink};

pub struct Options {
    /// The vendor API base URL the token is valid for.
    pub api_url: String,
    /// Called for a new token when the current one is due or has expired.
    pub on_access_token_expired: Option<ExpiryHandler>,
    pub refresh_margin: Duration,
    /// The timer never refreshes sooner than this after a token arrived
    /// (see [`DEFAULT_MIN_REFRESH_INTERVAL`]).
    pub min_refresh_interval: Duration,
    /// A page hidden with no input for this long stops refreshing on its
    /// timer until the person is back (see [`DEFAULT_IDLE_AFTER`]); `None`:
    /// never idle.
    pub idle_after: Option<Duration>,
    /// Told whenever the token's state changes (never the token itself).
    pub on_token_state: Option<StateListener>,
    /// Tabs that open the same checkout (e.g. the invoice id) take turns to
    /// refresh under this name and share the token instead of each asking
    /// the server.
    pub share_between_tabs: Option<String>,
}

impl Options {
    pub fn new(api_url: impl Into<String>) -> Self {
        Self {
            api_url: api_url.into().trim_end_matches('/').to_owned(),
            on_access_token_expired: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            min_refresh_interval: DEFAULT_MIN_REFRESH_INTERVAL,
            idle_after: Some(DEFAULT_IDLE_AFTER),
            on_token_state: None,
            share_between_tabs: None,
        }
    }
}

/// Holds the checkout token and calls the vendor's checkout API with it.
/// Dropping it cancels its timer and removes its event listeners.
pub struct CheckoutClient {
    api_url: String,
    keeper: Rc<Keeper<Browser>>,
    _wakeups: Option<Wakeups>,
    tabs: Option<Rc<BrowserTabs>>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl CheckoutClient {
    /// A client for a token the page already has.
    pub fn new(token: AccessToken, options: Options) -> Self {
        Self::start(options, |platform, keeper_options| {
            Keeper::new(platform, token, keeper_options)
        })
    }

    /// Opens the checkout: asks `mint` for the first token and resolves once
    /// it is in. Meanwhile a transient failure is retried on the same
    /// backoff as every refresh (told to `on_token_state`), and the tabs of
    /// the checkout share the outcome; a refusal that will not pass
    /// ([`crate::RefreshError::stop`]) resolves with
    /// [`SdkError::RefreshRefused`]. Later tokens come from
    /// `options.on_access_token_expired`, usually the same function.
    /// Dropping the future gives up, timers and all.
    pub async fn connect(mint: ExpiryHandler, options: Options) -> Result<Self, SdkError> {
        let client = Self::start(options, |platform, keeper_options| {
            Keeper::connect(platform, mint, keeper_options)
        });
        client.keeper.opened().await?;
        Ok(client)
    }

    fn start(
        options: Options,
        keeper: impl FnOnce(Browser, KeeperOptions) -> Rc<Keeper<Browser>>,
    ) -> Self {
        let tabs = options
            .share_between_tabs
            .as_deref()
            .and_then(BrowserTabs::open)
            .map(Rc::new);
        let keeper = keeper(
            Browser::default(),
            KeeperOptions {
                handler: options.on_access_token_expired,
                margin: options.refresh_margin,
                min_interval: options.min_refresh_interval,
                idle_after: options.idle_after,
                listener: options.on_token_state,
                tabs: tabs.clone().map(|tabs| -> Rc<dyn Tabs> { tabs }),
            },
        );
        // With a handler, to refresh on return; without, to report an
        // expiry that a sleeping tab's timer missed.
        let wakeups = Wakeups::listen(&keeper);
        if let Some(tabs) = &tabs {
            tabs.deliver_to(&keeper);
        }
        Self {
            api_url: options.api_url,
            keeper,
            _wakeups: wakeups,
            tabs,
        }
    }

    pub fn token_state(&self) -> TokenState {
        self.keeper.snapshot()
    }

    /// Refreshes now, or joins the refresh already under way (a "retry" button).
    pub async fn refresh(&self, reason: RefreshReason) -> Result<(), SdkError> {
        self.keeper.refresh(reason).await
    }

    /// `GET /checkout/v1/invoice`: the invoice the token is scoped to.
    pub async fn invoice(&self) -> Result<Invoice, SdkError> {
        self.call(|token| self.send_get("/checkout/v1/invoice", token))
            .await
    }

    /// `GET /checkout/v1/payment-methods`: the customer's saved methods.
    pub async fn payment_methods(&self) -> Result<Vec<PaymentMethod>, SdkError> {
        self.call(|token| self.send_get("/checkout/v1/payment-methods", token))
            .await
    }

    /// `GET /checkout/v1/invoice/pdf-link`: a short-lived link to the invoice PDF.
    pub async fn pdf_link(&self) -> Result<PdfLink, SdkError> {
        self.call(|token| self.send_get("/checkout/v1/invoice/pdf-link", token))
            .await
    }

    /// `POST /checkout/v1/payments`, with the request's idempotency key: a
    /// retry of the same `PaymentRequest` (after a refresh, or by the page
    /// after a network failure) can never pay twice. A token near its end
    /// is refreshed first ([`PAYMENT_LEAST_LIFETIME`]): the payment never
    /// travels with a token that may expire on the way.
    pub async fn pay(&self, request: &PaymentRequest) -> Result<Payment, SdkError> {
        if self.keeper.has_handler() && self.keeper.near_end(PAYMENT_LEAST_LIFETIME) {
            self.keeper.refresh(RefreshReason::Payment).await?;
        }
        self.call(|token| self.send_payment(request, token)).await
    }

    /// One call, sent again after the vendor's `Retry-After` while it is
    /// rate limited (at most [`RATE_LIMIT_RETRIES`] times, each wait at most
    /// [`RATE_LIMIT_LONGEST_WAIT`]): several tabs of one checkout share a
    /// token, and so its quota of calls a second. Safe to repeat: reads are
    /// `GET`s, a payment carries its idempotency key.
    async fn call<T, F, Fut>(&self, send: F) -> Result<T, SdkError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError>>,
    {
        let mut retries = 0;
        loop {
            let outcome = self.call_once(&send).await;
            match rate_limit_wait(&outcome, retries) {
                Some(wait) => gloo_timers::future::sleep(wait).await,
                None => return outcome,
            }
            retries += 1;
        }
    }

    /// One call with the current token; after `access_token_expired`, one
    /// refresh (shared with any other call that needs it) and one retry.
    /// If the vendor refuses the new token too, that is a failed refresh
    /// (backed off, like any other), not an expiry.
    async fn call_once<T, F, Fut>(&self, send: &F) -> Result<T, SdkError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError>>,
    {
        if let Some(error) = self.keeper.unusable() {
            return Err(error);
        }
        let used = self.keeper.token();
        match send(used.clone()).await {
            Err(SdkError::AccessTokenExpired) => {
                // Another call may have refreshed while this one was in flight.
                if self.keeper.token() == used {
                    self.keeper.refresh(RefreshReason::Expired).await?;
                }
                let fresh = self.keeper.token();
                match send(fresh.clone()).await {
                    Err(SdkError::AccessTokenExpired) => Err(self.keeper.refused(&fresh)),
                    other => other,
                }
            }
            other => other,
        }
    }

    async fn send_get<T: DeserializeOwned>(
        &self,
        path: &str,
        token: String,
    ) -> Result<T, SdkError> {
        let response = gloo_net::http::Request::get(&format!("{}{path}", self.api_url))
            .header("Authorization", &format!("Bearer {token}"))
            .send()
            .await
            .map_err(unreachable)?;
        read(response).await
    }

    async fn send_payment(
        &self,
        request: &PaymentRequest,
        token: String,
    ) -> Result<Payment, SdkError> {
        #[derive(Serialize)]
        struct Body<'a> {
            payment_method_id: &'a str,
            amount: &'a str,
        }
        let response =
            gloo_net::http::Request::post(&format!("{}/checkout/v1/payments", self.api_url))
                .header("Authorization", &format!("Bearer {token}"))
                .header("Idempotency-Key", request.idempotency_key())
                .json(&Body {
                    payment_method_id: &request.payment_method_id,
                    amount: &request.amount,
                })
                .map_err(|e| SdkError::Malformed(e.to_string()))?
                .send()
                .await
                .map_err(unreachable)?;
        read(response).await
    }
}

/// A payment goes out only with at least this much of its token's life
/// left (else the token is refreshed first): a slow network and the
/// vendor's own checks fit in it many times over.
pub const PAYMENT_LEAST_LIFETIME: Duration = Duration::from_secs(10);

/// How many times a rate-limited call is sent again before the caller
/// sees [`SdkError::RateLimited`].
pub const RATE_LIMIT_RETRIES: u32 = 3;

/// The longest `Retry-After` the SDK waits out by itself; a longer one is
/// the caller's to show.
pub const RATE_LIMIT_LONGEST_WAIT: Duration = Duration::from_secs(5);

/// The wait before sending `outcome`'s call again, if it was rate limited
/// and may be retried (`retries` done so far).
fn rate_limit_wait<T>(outcome: &Result<T, SdkError>, retries: u32) -> Option<Duration> {
    let wait = outcome.as_ref().err()?.retry_after()?;
    (retries < RATE_LIMIT_RETRIES && wait <= RATE_LIMIT_LONGEST_WAIT).then_some(wait)
}

/// A request that got no answer: offline if the browser says so (nothing
/// left the machine), else the vendor unreachable.
fn unreachable(error: gloo_net::Error) -> SdkError {
    if crate::browser::is_offline() {
        SdkError::Offline
    } else {
        SdkError::Unavailable(error.to_string())
    }
}

impl Drop for CheckoutClient {
    fn drop(&mut self) {
        if let Some(tabs) = &self.tabs {
            tabs.close();
        }
    }
}

async fn read<T: DeserializeOwned>(response: gloo_net::http::Response) -> Result<T, SdkError> {
    let status = response.status();
    if (200..300).contains(&status) {
        return response
            .json::<T>()
            .await
            .map_err(|e| SdkError::Malformed(e.to_string()));
    }
    let retry_after = response.headers().get("retry-after");
    let body: ErrorBody = response.json().await.unwrap_or_default();
    Err(classify(status, retry_after.as_deref(), body))
}

fn classify(status: u16, retry_after: Option<&str>, body: ErrorBody) -> SdkError {
    match status {
        401 if body.code == "access_token_expired" => SdkError::AccessTokenExpired,
        // RFC 9110 §10.2.3: delay-seconds (an HTTP date is not worth the
        // clock skew it brings here: one second, as a missing header).
        429 => SdkError::RateLimited {
            retry_after: Duration::from_secs(
                retry_after
                    .and_then(|value| value.trim().parse().ok())
                    .unwrap_or(1),
            ),
        },
        500.. => SdkError::Unavailable(format!("HTTP {status}")),
        _ => SdkError::Rejected {
            status,
            code: body.code,
            message: body.message,
        },
    }
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
            classify(401, None, body("access_token_expired")),
            SdkError::AccessTokenExpired
        );
        assert!(matches!(
            classify(401, None, body("invalid_token")),
            SdkError::Rejected { status: 401, .. }
        ));
        assert!(matches!(
            classify(403, None, body("insufficient_scope")),
            SdkError::Rejected { .. }
        ));
        assert!(matches!(
            classify(503, None, body("")),
            SdkError::Unavailable(_)
        ));
    }

    #[test]
    fn a_rate_limited_call_waits_its_retry_after_a_few_times_then_says_so() {
        let limited = |after: Option<&str>| classify(429, after, ErrorBody::default());
        let secs = Duration::from_secs;
        assert_eq!(
            limited(Some("2")),
            SdkError::RateLimited {
                retry_after: secs(2)
            }
        );
        // Missing or an HTTP date: one second.
        assert_eq!(limited(None).retry_after(), Some(secs(1)));
        assert_eq!(
            limited(Some("Wed, 21 Oct 2026 07:28:00 GMT")).retry_after(),
            Some(secs(1))
        );
        assert!(limited(None).is_transient());

        let outcome: Result<(), _> = Err(limited(Some("2")));
        assert_eq!(rate_limit_wait(&outcome, 0), Some(secs(2)));
        assert_eq!(
            rate_limit_wait(&outcome, RATE_LIMIT_RETRIES - 1),
            Some(secs(2))
        );
        assert_eq!(rate_limit_wait(&outcome, RATE_LIMIT_RETRIES), None);
        // A wait longer than the SDK takes on is the caller's to show.
        let long: Result<(), _> = Err(limited(Some("60")));
        assert_eq!(rate_limit_wait(&long, 0), None);
        // Nothing else is sent again here.
        let down: Result<(), _> = Err(SdkError::Unavailable("HTTP 503".into()));
        assert_eq!(rate_limit_wait(&down, 0), None);
        assert_eq!(rate_limit_wait(&Ok(()), 0), None);
    }
}
