//! Checkout tokens: short-lived JWTs scoped to one customer and one invoice,
//! signed with Ed25519 keys from the key ring (`keys`).
//!
//! Verification pins one algorithm (EdDSA), requires `typ: checkout+jwt` and a
//! known `kid`, requires every claim, checks `iss` and `aud`, and judges `exp`
//! against the injected clock with an explicit leeway — jsonwebtoken's own
//! expiry check reads the system clock, so it is switched off and done here.

use jsonwebtoken::{decode, decode_header, encode, Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::clock::UnixSeconds;
use crate::keys::KeyRing;

/// `typ` of a checkout token (RFC 8725 §3.11): no other kind of token this
/// vendor issues carries it, so none can stand in for a checkout token.
pub const CHECKOUT_TOKEN_TYP: &str = "checkout+jwt";
pub const ISSUER: &str = "alternative-sandbox";
pub const AUDIENCE: &str = "alternative-checkout";
/// Tolerated clock difference between issuer and verifier. A few seconds:
/// enough for unsynchronised clocks on one host or in one data centre, too
/// short to matter for a token that lives minutes.
pub const LEEWAY_SECS: u64 = 5;
/// Longer than any token this vendor issues (about 700 bytes); checked before
/// any parsing or crypto, so a huge token costs nothing.
pub const MAX_TOKEN_LEN: usize = 2048;
/// The one algorithm checkout tokens are signed with.
const ALGORITHM: Algorithm = Algorithm::EdDSA;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutClaims {
    pub partner_id: String,
    pub client_id: String,
    pub customer_id: String,
    pub invoice_id: String,
    pub exp: UnixSeconds,
    pub iat: UnixSeconds,
    pub jti: String,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the checkout token has expired")]
    Expired,
    #[error("the checkout token is invalid")]
    Invalid,
}

/// Signs and verifies checkout tokens.
pub struct CheckoutTokens {
    ring: KeyRing,
    validation: Validation,
}

impl CheckoutTokens {
    pub fn new(ring: KeyRing) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.validate_exp = false; // judged against the injected clock below
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Self { ring, validation }
    }

    /// A signer with one freshly generated key, kept for a day and trusted
    /// for a token's lifetime after: for benchmarks and fuzzing.
    pub fn with_new_key(now: UnixSeconds) -> Self {
        Self::new(KeyRing::new(
            &[],
            &crate::keys::generate(now),
            86_400,
            900 + LEEWAY_SECS,
        ))
    }

    pub fn keys(&self) -> &KeyRing {
        &self.ring
    }

    pub fn sign(&self, claims: &CheckoutClaims) -> String {
        self.ring.with_signing_key(|key| {
            let mut header = Header::new(ALGORITHM);
            header.typ = Some(CHECKOUT_TOKEN_TYP.to_owned());
            header.kid = Some(key.kid.clone());
            encode(&header, claims, key.encoding()).expect("Ed25519 signing cannot fail")
        })
    }

    pub fn verify(&self, token: &str, now: UnixSeconds) -> Result<CheckoutClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != ALGORITHM || header.typ.as_deref() != Some(CHECKOUT_TOKEN_TYP) {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let claims = self
            .ring
            .with_verifying_key(&kid, now, |key| {
                decode::<CheckoutClaims>(token, key, &self.validation)
            })
            .ok_or(TokenError::Invalid)?
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if now > claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests;
