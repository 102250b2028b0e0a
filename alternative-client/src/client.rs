//! The merchant's HTTP client for the vendor API: the OAuth client
//! credentials grant and `POST /v1/checkout-auth/init`, within the vendor's
//! quota, retried on transient failures, and every token verified.

use std::time::{Duration, SystemTime};

use reqwest::{header, StatusCode};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::VendorError;
use crate::health::Probe;
use crate::jwks::TokenVerifier;
use crate::metrics::{send, Endpoint};
use crate::quota::Quota;
use crate::retry::retrying;
use crate::secret::{CheckoutToken, ClientSecret, OAuthAccessToken};
use crate::token_cache::TokenCache;

/// Where the vendor is, who the merchant is to it, and the details in which
/// environments of the real API are reported to differ.
#[derive(Debug, Clone)]
pub struct VendorConfig {
    /// Base URL without a trailing slash, e.g. `https://public-api.alternativepayments.io`.
    pub api_url: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// `/v1/checkout-auth/init`; some environments serve `/checkout-auth/init`.
    pub init_path: String,
    /// The init answer's token field: `token`, or `access_token` as some
    /// clients of the real API see it. The other name is accepted too.
    pub token_field: String,
    /// The JWKS that verifies checkout tokens; `None` relays them unverified
    /// (for a vendor that publishes no keys — announced at start).
    pub jwks_url: Option<String>,
    /// The `iss` claim and header `typ` every checkout token must carry;
    /// `None` checks nothing (the real vendor's values are not public).
    pub token_issuer: Option<String>,
    pub token_typ: Option<String>,
    /// Calls per second the vendor allows this API key (5 on the real API).
    pub requests_per_second: u32,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    /// How long [`VendorClient::check`]'s outcome stands before the vendor
    /// is asked again ([`crate::PROBE_INTERVAL`] by default).
    pub probe_interval: Duration,
}

impl VendorConfig {
    /// The defaults for a vendor at `api_url`.
    pub fn new(api_url: &str, client_id: &str, client_secret: ClientSecret) -> Self {
        let api_url = api_url.trim_end_matches('/').to_owned();
        Self {
            jwks_url: Some(format!("{api_url}/.well-known/jwks.json")),
            api_url,
            client_id: client_id.to_owned(),
            client_secret,
            init_path: "/v1/checkout-auth/init".to_owned(),
            token_field: "token".to_owned(),
            token_issuer: None,
            token_typ: None,
            requests_per_second: 5,
            connect_timeout: CONNECT_TIMEOUT,
            total_timeout: TOTAL_TIMEOUT,
            probe_interval: crate::PROBE_INTERVAL,
        }
    }
}

/// A checkout token and how long it has left, as the vendor reported it.
#[derive(Debug, Clone)]
pub struct IssuedCheckoutToken {
    pub token: CheckoutToken,
    /// `expires_at` minus this server's clock at arrival: what the browser
    /// schedules its refresh from, since its own clock may be off.
    pub expires_in: Duration,
    /// The token's id, the one part of it that may be logged.
    pub jti: Option<String>,
}

pub struct VendorClient {
    http: reqwest::Client,
    pub(crate) config: VendorConfig,
    pub(crate) oauth: TokenCache,
    /// This instance's quota; with a fleet's shared state, its own share,
    /// used while Redis cannot be reached (`fleet.rs`).
    pub(crate) quota: Quota,
    pub(crate) shared: Option<crate::fleet_state::FleetState>,
    verifier: Option<TokenVerifier>,
    probe: Probe,
}

/// Timeouts for every vendor call. Connect: a healthy host on the internet
/// accepts in well under 2 s. Total: a checkout page should show "vendor
/// unavailable" in 5 s rather than spin.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Below this, a checkout token is refused as [`VendorError::Malformed`]:
/// no page can use a token that ends before it arrives, and handing it out
/// would only make every page ask again at once.
pub const MIN_CHECKOUT_LIFETIME: Duration = Duration::from_secs(2);
/// Above this, a checkout token's lifetime is cut to it (and logged): the
/// vendor's tokens are meant to be short-lived (15 minutes in the sandbox),
/// and a page should not trust a date a day away, whatever the vendor says.
pub const MAX_CHECKOUT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// `GET /checkout/v1/invoice`, as the merchant reads it to render the page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VendorInvoice {
    pub invoice_number: String,
    pub currency: String,
    pub sub_total: String,
    pub total: String,
    pub status: String,
    pub due_date: String,
}

/// How many events one page of [`VendorClient::events_after`] holds at most.
pub const EVENT_PAGE: usize = 100;
const EVENT_PAGE_TEXT: &str = "100";
/// The catch-up's place in the quota: one caller, beside the customers.
const EVENTS_CALLER: &str = "(events)";

/// One event as the vendor's list shows it: its id, and the body it
/// delivers (or would).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListedEvent {
    pub id: String,
    #[serde(rename = "event")]
    pub body: serde_json::Value,
}

/// What [`VendorClient::events_after`] found.
#[derive(Debug)]
pub enum EventPage {
    /// The events after the cursor, oldest first (none: up to date).
    Events(Vec<ListedEvent>),
    /// The vendor holds no event by the cursor's id (another environment,
    /// or a sandbox reset): start again from the first.
    UnknownCursor,
}

/// `GET /v1/invoices/{id}`: an invoice's status (`open`, `paid`) and the
/// payment that settled it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Settlement {
    pub status: String,
    pub payment: Option<crate::webhook::Payment>,
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    /// `error` on the OAuth endpoint (RFC 6749), `code` on the others.
    #[serde(alias = "error")]
    code: Option<String>,
}

impl VendorClient {
    pub fn new(config: VendorConfig) -> Result<Self, VendorError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            // A redirect could carry the Authorization header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| VendorError::Malformed("cannot build an HTTP client"))?;
        let verifier = config.jwks_url.clone().map(|url| {
            TokenVerifier::new(http.clone(), url)
                .expecting(config.token_issuer.as_deref(), config.token_typ.as_deref())
        });
        if verifier.is_none() {
            tracing::warn!("no vendor JWKS configured: checkout tokens are relayed unverified");
        }
        Ok(Self {
            http,
            quota: Quota::under_vendor(config.requests_per_second),
            config: VendorConfig {
                api_url: config.api_url.trim_end_matches('/').to_owned(),
                ..config
            },
            oauth: TokenCache::default(),
            shared: None,
            verifier,
            probe: Probe::new(config.probe_interval),
        })
    }

    pub fn api_url(&self) -> &str {
        &self.config.api_url
    }

    /// Whether a checkout token can be minted now, for a readiness probe:
    /// an OAuth token in hand (the cached one, or a new one), and the vendor
    /// answering — its JWKS read, and its keys installed. Asked at most once
    /// per [`VendorConfig::probe_interval`], whatever the outcome: the OAuth
    /// fetch is part of the check, so a vendor refusing tokens costs one
    /// call per interval, not one per probe. The error says what is wrong.
    pub async fn check(&self) -> Result<(), VendorError> {
        self.probe
            .outcome(|| async {
                self.oauth_token().await?;
                match &self.verifier {
                    Some(verifier) => verifier.fetch().await,
                    // Nothing to verify with: any answer of the vendor's
                    // own JWKS address shows it is up.
                    None => send(
                        self.http
                            .get(format!("{}/.well-known/jwks.json", self.config.api_url)),
                        Endpoint::Jwks,
                    )
                    .await
                    .map(drop),
                }
            })
            .await
    }

    /// Makes the cached OAuth token due, as if its lifetime had run out.
    #[cfg(test)]
    pub(crate) fn expire_oauth_token(&self) {
        self.oauth.expire();
    }

    /// Asks the vendor for a checkout token scoped to `customer_id` and
    /// `invoice_id`, and checks it is exactly that before returning it.
    pub async fn checkout_token(
        &self,
        customer_id: &str,
        invoice_id: &str,
    ) -> Result<IssuedCheckoutToken, VendorError> {
        let oauth = self.oauth_token().await?;
        let (mut issued, vendor_now) =
            match retrying(|| self.init(&oauth, customer_id, invoice_id)).await {
                // The cached token was revoked or expired early: drop it, retry once.
                Err(VendorError::Rejected { status: 401, .. }) => {
                    self.forget_oauth(&oauth).await;
                    let oauth = self.oauth_token().await?;
                    retrying(|| self.init(&oauth, customer_id, invoice_id)).await?
                }
                other => other?,
            };
        if let Some(verifier) = &self.verifier {
            let claims = verifier
                .verify(
                    issued.token.expose(),
                    &self.config.client_id,
                    customer_id,
                    invoice_id,
                    vendor_now,
                )
                .await?;
            // The token itself is the last word: if its `exp` comes before
            // the `expires_at` the vendor wrote beside it, the earlier wins.
            let until_exp = (SystemTime::UNIX_EPOCH + Duration::from_secs(claims.exp))
                .duration_since(vendor_now)
                .unwrap_or(Duration::ZERO);
            issued.expires_in = issued.expires_in.min(until_exp);
            issued.jti = claims.jti;
        }
        issued.expires_in = bounded_lifetime(issued.expires_in)?;
        tracing::info!(
            jti = issued.jti.as_deref().unwrap_or("-"),
            // Debug-quoted: no input can start a new log line.
            ?invoice_id,
            "minted a checkout token"
        );
        Ok(issued)
    }

    /// The invoice a checkout token is scoped to, read with that token (as
    /// the browser would), so the server can render the page's summary.
    /// `customer_id` is whom the read is for, for the quota's fair share.
    pub async fn invoice(
        &self,
        token: &CheckoutToken,
        customer_id: &str,
    ) -> Result<VendorInvoice, VendorError> {
        retrying(|| async {
            self.turn(customer_id).await?;
            let response = send(
                self.http
                    .get(format!("{}/checkout/v1/invoice", self.config.api_url))
                    .bearer_auth(token.expose()),
                Endpoint::Invoice,
            )
            .await?;
            success_json(response).await
        })
        .await
    }

    /// Whether `invoice_id` is paid, and by which payment, read with the
    /// merchant's own credentials (`GET /v1/invoices/{id}`): how a merchant
    /// reconciles without waiting for the vendor's event. `customer_id` is
    /// whom the read is for: it takes that customer's place in the quota,
    /// as every call a customer causes does.
    pub async fn settlement(
        &self,
        invoice_id: &str,
        customer_id: &str,
    ) -> Result<Settlement, VendorError> {
        let url = format!("{}/v1/invoices/{invoice_id}", self.config.api_url);
        let settlement: Settlement = self
            .with_oauth(customer_id, Endpoint::Settlement, |http, oauth| {
                http.get(&url).bearer_auth(oauth.expose())
            })
            .await?;
        if let Some(payment) = &settlement.payment {
            payment.check().map_err(VendorError::Malformed)?;
        }
        Ok(settlement)
    }

    /// One page of the merchant's events, oldest first, from the one after
    /// `after` (from the first the vendor holds without it): how a merchant
    /// catches up on events its webhook endpoint missed. Each event is the
    /// body the vendor delivers, exactly; read it with
    /// [`crate::webhook::read_listed_event`]. A page shorter than
    /// [`EVENT_PAGE`] is the last.
    pub async fn events_after(&self, after: Option<&str>) -> Result<EventPage, VendorError> {
        let mut query = vec![("order", "oldest_first"), ("limit", EVENT_PAGE_TEXT)];
        if let Some(after) = after {
            query.push(("after", after));
        }
        let url = format!("{}/v1/events", self.config.api_url);
        let listed = self
            .with_oauth(EVENTS_CALLER, Endpoint::Events, |http, oauth| {
                http.get(&url).query(&query).bearer_auth(oauth.expose())
            })
            .await;
        match listed {
            Ok(events) => Ok(EventPage::Events(events)),
            Err(VendorError::Rejected { status: 404, .. }) if after.is_some() => {
                Ok(EventPage::UnknownCursor)
            }
            Err(other) => Err(other),
        }
    }

    /// A call made with the merchant's OAuth token on behalf of `caller`
    /// (its place in the quota), retried on transient failures; if the
    /// vendor refuses the cached token (revoked, or expired early), it is
    /// dropped and the call is made once more with a new one.
    async fn with_oauth<T, F>(
        &self,
        caller: &str,
        endpoint: Endpoint,
        request: F,
    ) -> Result<T, VendorError>
    where
        T: serde::de::DeserializeOwned,
        F: Fn(&reqwest::Client, &OAuthAccessToken) -> reqwest::RequestBuilder,
    {
        let call = |oauth: OAuthAccessToken| {
            let request = &request;
            async move {
                retrying(|| async {
                    self.turn(caller).await?;
                    let response = send(request(&self.http, &oauth), endpoint).await?;
                    success_json::<T>(response).await
                })
                .await
            }
        };
        let oauth = self.oauth_token().await?;
        match call(oauth.clone()).await {
            Err(VendorError::Rejected { status: 401, .. }) => {
                self.forget_oauth(&oauth).await;
                call(self.oauth_token().await?).await
            }
            other => other,
        }
    }

    async fn oauth_token(&self) -> Result<OAuthAccessToken, VendorError> {
        // The fleet's token, or this instance's own (`fleet.rs`).
        self.oauth.get_fresh_for(|| self.fleet_oauth_token()).await
    }

    async fn init(
        &self,
        oauth: &OAuthAccessToken,
        customer_id: &str,
        invoice_id: &str,
    ) -> Result<(IssuedCheckoutToken, SystemTime), VendorError> {
        self.turn(customer_id).await?;
        let response = send(
            self.http
                .post(format!("{}{}", self.config.api_url, self.config.init_path))
                .bearer_auth(oauth.expose())
                .json(&serde_json::json!({ "customer_id": customer_id, "invoice_id": invoice_id })),
            Endpoint::Init,
        )
        .await?;
        let vendor_now = vendor_time(&response);
        let body: serde_json::Value = success_json(response).await?;
        let issued = read_init_response(&body, &self.config.token_field, vendor_now)?;
        Ok((issued, vendor_now))
    }

    pub(crate) async fn fetch_oauth_token(
        &self,
    ) -> Result<(OAuthAccessToken, Duration), VendorError> {
        // For every customer at once; one fetch at a time (the cache's
        // single flight), so it never holds more than one place.
        self.turn("").await?;
        let response = send(
            self.http
                .post(format!("{}/oauth/token", self.config.api_url))
                .basic_auth(
                    form_encode(&self.config.client_id),
                    Some(form_encode(self.config.client_secret.expose())),
                )
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials"),
            Endpoint::OAuthToken,
        )
        .await?;
        let (token, lifetime) = read_token_response(success_json(response).await?)?;
        tracing::info!(
            lifetime_secs = lifetime.as_secs(),
            "fetched a new OAuth access token"
        );
        Ok((token, lifetime))
    }
}

/// The OAuth token response (RFC 6749 §5.1): a Bearer token and its lifetime.
pub(crate) fn read_token_response(
    body: TokenResponse,
) -> Result<(OAuthAccessToken, Duration), VendorError> {
    if !body
        .token_type
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        return Err(VendorError::Malformed("token_type is not Bearer"));
    }
    let token = body
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(VendorError::Malformed(
            "no access_token in the token response",
        ))?;
    let lifetime = body.expires_in.ok_or(VendorError::Malformed(
        "no expires_in in the token response",
    ))?;
    Ok((OAuthAccessToken::new(token), Duration::from_secs(lifetime)))
}

/// The init response: the token under `token_field` (or the other known
/// name) and how long it has left at `now`.
pub(crate) fn read_init_response(
    body: &serde_json::Value,
    token_field: &str,
    now: SystemTime,
) -> Result<IssuedCheckoutToken, VendorError> {
    let other = if token_field == "token" {
        "access_token"
    } else {
        "token"
    };
    let token = [token_field, other]
        .into_iter()
        .find_map(|field| body.get(field)?.as_str())
        .filter(|t| !t.is_empty())
        .ok_or(VendorError::Malformed("no token in the init response"))?;
    let expires_at =
        body.get("expires_at")
            .and_then(parse_instant)
            .ok_or(VendorError::Malformed(
                "no usable expires_at in the init response",
            ))?;
    let expires_in = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
    Ok(IssuedCheckoutToken {
        token: CheckoutToken::new(token),
        expires_in,
        jti: None,
    })
}

/// A checkout token's lifetime within [`MIN_CHECKOUT_LIFETIME`] and
/// [`MAX_CHECKOUT_LIFETIME`]: too short is refused, too long is cut.
pub(crate) fn bounded_lifetime(lifetime: Duration) -> Result<Duration, VendorError> {
    if lifetime < MIN_CHECKOUT_LIFETIME {
        tracing::warn!(
            lifetime_ms = lifetime.as_millis() as u64,
            "refused a checkout token that lives under 2 s"
        );
        return Err(VendorError::Malformed(
            "the checkout token expires too soon to be used",
        ));
    }
    if lifetime > MAX_CHECKOUT_LIFETIME {
        tracing::warn!(
            lifetime_secs = lifetime.as_secs(),
            "a checkout token said to live over 24 h: its lifetime is cut to 24 h"
        );
        return Ok(MAX_CHECKOUT_LIFETIME);
    }
    Ok(lifetime)
}

/// "Now" on the vendor's clock: the `Date` of its answer (RFC 9110 §6.6.1),
/// or this server's clock if it sent none. Lifetimes and expiry are judged
/// against it, so the two clocks need not agree: the vendor's `expires_at`
/// minus the vendor's `Date` is the lifetime the vendor meant, to a second.
fn vendor_time(response: &reqwest::Response) -> SystemTime {
    response
        .headers()
        .get(header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .unwrap_or_else(SystemTime::now)
}

/// The body of a 2xx as `T`; anything else as the matching error.
async fn success_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, VendorError> {
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Err(VendorError::Unavailable {
            reason: format!("HTTP {}", status.as_u16()),
            retry_after,
        });
    }
    if status.is_redirection() {
        return Err(VendorError::Malformed(
            "the vendor answered with a redirect",
        ));
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bytes = response
        .bytes()
        .await
        .map_err(VendorError::from_transport)?;
    decode_answer(status, is_json, &bytes)
}

/// A (non-5xx, non-429, non-redirect) answer's body: `T` from a 2xx in JSON,
/// otherwise the matching error, with the vendor's error code if it sent one.
pub(crate) fn decode_answer<T: serde::de::DeserializeOwned>(
    status: StatusCode,
    is_json: bool,
    bytes: &[u8],
) -> Result<T, VendorError> {
    if !status.is_success() {
        let body: ErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
        // The code ends up in log lines: only a short token of the shape
        // error codes have (RFC 6749 §5.2's are `[a-z_]`), nothing else.
        let code = body
            .code
            .filter(|c| {
                c.len() <= 64
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
            })
            .unwrap_or_else(|| "unknown".into());
        return Err(VendorError::Rejected {
            status: status.as_u16(),
            code,
        });
    }
    if !is_json {
        return Err(VendorError::Malformed("the answer is not JSON"));
    }
    serde_json::from_slice(bytes)
        .map_err(|_| VendorError::Malformed("the answer is not the expected JSON"))
}

/// `expires_at` as RFC 3339 text or Unix seconds: clients of the real API report both.
fn parse_instant(value: &serde_json::Value) -> Option<SystemTime> {
    let unix = match value {
        serde_json::Value::Number(n) => n.as_i64()?,
        serde_json::Value::String(s) => match s.parse::<i64>() {
            Ok(n) => n,
            Err(_) => OffsetDateTime::parse(s, &Rfc3339).ok()?.unix_timestamp(),
        },
        _ => return None,
    };
    let secs = u64::try_from(unix).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic
/// encoding. Unreserved characters stay, a space is `+`, every other byte is `%XX`.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expires_at_is_read_as_rfc3339_or_unix_seconds() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(parse_instant(&json!("2027-01-15T08:00:00Z")), Some(at));
        assert_eq!(parse_instant(&json!(1_800_000_000)), Some(at));
        assert_eq!(parse_instant(&json!("1800000000")), Some(at));
        assert_eq!(parse_instant(&json!("tomorrow")), None);
        assert_eq!(parse_instant(&json!(-5)), None);
        assert_eq!(parse_instant(&json!(null)), None);
    }

    #[test]
    fn lifetimes_too_short_are_refused_and_too_long_cut() {
        for short in [0, 1_000, 1_999] {
            let err = bounded_lifetime(Duration::from_millis(short)).unwrap_err();
            assert!(matches!(err, VendorError::Malformed(_)), "{short} ms");
        }
        for fine in [
            MIN_CHECKOUT_LIFETIME,
            Duration::from_secs(900),
            MAX_CHECKOUT_LIFETIME,
        ] {
            assert_eq!(bounded_lifetime(fine).unwrap(), fine);
        }
        assert_eq!(
            bounded_lifetime(Duration::from_secs(365 * 24 * 3600)).unwrap(),
            MAX_CHECKOUT_LIFETIME
        );
    }

    #[test]
    fn credentials_are_form_encoded() {
        assert_eq!(form_encode("demo_client_id"), "demo_client_id");
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
