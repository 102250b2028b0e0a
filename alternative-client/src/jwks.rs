//! Checking each checkout token before it is handed to a browser: signed by
//! the vendor (a key from its JWKS), and for exactly the customer, invoice and
//! API client that were asked for. A token that fails is never relayed.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::time::Instant;

use crate::error::VendorError;
use crate::metrics::Endpoint;
use crate::transport::send;

/// The vendor signs checkout tokens with Ed25519; nothing else is accepted.
const ALGORITHM: Algorithm = Algorithm::EdDSA;
/// An unknown `kid` makes us fetch the JWKS again, but not more often than
/// this: a stream of bad tokens must not become a stream of JWKS requests.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// The claims the merchant relies on.
#[derive(Debug, Deserialize)]
pub struct CheckoutClaims {
    pub client_id: String,
    pub customer_id: String,
    pub invoice_id: String,
    pub exp: u64,
    pub jti: Option<String>,
}

pub struct TokenVerifier {
    http: reqwest::Client,
    url: String,
    /// `Arc`: a lookup hands out a reference count, not a copy of the key.
    keys: RwLock<HashMap<String, Arc<DecodingKey>>>,
    /// Held while fetching; remembers when the last fetch started.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    validation: Validation,
    /// The header's `typ` a checkout token must carry, where the vendor
    /// sets one (RFC 8725 §3.11: so no other kind of token can pass).
    typ: Option<String>,
}

impl TokenVerifier {
    pub fn new(http: reqwest::Client, jwks_url: String) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.validate_exp = false; // checked below, on the vendor's clock
        validation.validate_aud = false; // the real vendor's audience is not public
        validation.set_required_spec_claims(&["exp"]);
        Self {
            http,
            url: jwks_url,
            keys: RwLock::default(),
            fetching: tokio::sync::Mutex::new(None),
            validation,
            typ: None,
        }
    }

    /// Also requires the token's `iss` claim and its header's `typ` to be
    /// these, where given. The real vendor's values are not public, so both
    /// are settings; the sandbox's are `alternative-sandbox` and `checkout+jwt`.
    pub fn expecting(mut self, issuer: Option<&str>, typ: Option<&str>) -> Self {
        if let Some(issuer) = issuer {
            self.validation.set_issuer(&[issuer]);
            self.validation.set_required_spec_claims(&["exp", "iss"]);
        }
        self.typ = typ.map(str::to_owned);
        self
    }

    /// The token's claims if the vendor signed it for exactly this request
    /// and it has not expired at `vendor_now` (the vendor's clock).
    pub async fn verify(
        &self,
        token: &str,
        client_id: &str,
        customer_id: &str,
        invoice_id: &str,
        vendor_now: SystemTime,
    ) -> Result<CheckoutClaims, VendorError> {
        let header = decode_header(token)
            .ok()
            .filter(|h| h.alg == ALGORITHM)
            .ok_or(VendorError::Malformed("the checkout token is not EdDSA"))?;
        if self.typ.is_some() && header.typ != self.typ {
            return Err(VendorError::Malformed(
                "the checkout token's typ is not a checkout token's",
            ));
        }
        let kid = header
            .kid
            .ok_or(VendorError::Malformed("the checkout token has no kid"))?;
        let key = match self.key(&kid) {
            Some(key) => key,
            None => {
                self.refetch().await?;
                self.key(&kid).ok_or(VendorError::Malformed(
                    "the checkout token's key is not in the JWKS",
                ))?
            }
        };
        let claims = decode::<CheckoutClaims>(token, &key, &self.validation)
            .map_err(|_| VendorError::Malformed("the checkout token's signature does not verify"))?
            .claims;
        let now = vendor_now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if claims.client_id != client_id
            || claims.customer_id != customer_id
            || claims.invoice_id != invoice_id
        {
            return Err(VendorError::Malformed(
                "the checkout token is not scoped to what was asked",
            ));
        }
        if claims.exp <= now {
            return Err(VendorError::Malformed(
                "the checkout token is already expired",
            ));
        }
        Ok(claims)
    }

    /// The known key with this `kid`, without fetching.
    pub fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(kid)
            .cloned()
    }

    /// Replaces the known keys with the set's (those with a `kid` that parse).
    pub fn install(&self, set: &JwkSet) -> usize {
        let keys: HashMap<String, Arc<DecodingKey>> = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((jwk.common.key_id.clone()?, Arc::new(key)))
            })
            .collect();
        let count = keys.len();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        count
    }

    async fn refetch(&self) -> Result<(), VendorError> {
        let mut last = self.fetching.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL) {
            return Ok(());
        }
        *last = Some(Instant::now());
        self.fetch().await
    }

    /// Reads the JWKS now and installs its keys.
    pub(crate) async fn fetch(&self) -> Result<(), VendorError> {
        let response = send(self.http.get(&self.url), Endpoint::Jwks).await?;
        if !response.status().is_success() {
            return Err(VendorError::Unavailable {
                reason: format!("JWKS: HTTP {}", response.status().as_u16()),
                retry_after: None,
            });
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| VendorError::Malformed("the JWKS is not a JWK Set"))?;
        let keys = self.install(&parse_jwks(&body)?);
        tracing::info!(keys, "fetched the vendor's JWKS");
        Ok(())
    }
}

/// A JWKS response body (RFC 7517 §5), as `refetch` reads it.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<JwkSet, VendorError> {
    serde_json::from_slice(body).map_err(|_| VendorError::Malformed("the JWKS is not a JWK Set"))
}
