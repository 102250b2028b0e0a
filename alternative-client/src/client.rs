//! The merchant's HTTP client for the vendor API: the OAuth client
//! credentials grant and `POST /v1/checkout-auth/init`, within the vendor's
//! quota, retried on transient failures, and every token verified.

use std::time::{Duration, SystemTime};

use reqwest::header;
use serde::Deserialize;

use crate::answers::{
    bounded_lifetime, read_init_response, read_token_response, success_json, vendor_time,
    IssuedCheckoutToken,
};
use crate::error::VendorError;
use crate::health::Probe;
use crate::jwks::TokenVerifier;
use crate::metrics::Endpoint;
use crate::quota::Quota;
use crate::retry::retrying;
use crate::secret::{CheckoutToken, ClientSecret, OAuthAccessToken};
use crate::token_cache::TokenCache;
use crate::transport::send;

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

pub struct VendorClient {
    pub(crate) http: reqwest::Client,
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

    pub(crate) async fn oauth_token(&self) -> Result<OAuthAccessToken, VendorError> {
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

    #[test]
    fn credentials_are_form_encoded() {
        assert_eq!(form_encode("demo_client_id"), "demo_client_id");
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
