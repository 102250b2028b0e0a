//! Checkout tokens: short-lived JWTs scoped to one customer and one invoice.
//!
//! Verification pins one algorithm, requires every claim, checks `typ`, `iss`
//! and `aud`, and judges `exp` against the injected clock with an explicit
//! leeway — jsonwebtoken's own expiry check reads the system clock, so it is
//! switched off and done here instead.

use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::clock::UnixSeconds;

/// `typ` of a checkout token (RFC 8725 §3.11): no other kind of JWT this
/// vendor issues carries it, so none can stand in for a checkout token.
pub const CHECKOUT_TOKEN_TYP: &str = "checkout+jwt";
pub const ISSUER: &str = "alternative-sandbox";
pub const AUDIENCE: &str = "alternative-checkout";
/// Tolerated clock difference between issuer and verifier. A few seconds:
/// enough for unsynchronised clocks on one host or a data centre, too short
/// to matter for a token that lives minutes.
pub const LEEWAY_SECS: u64 = 5;

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

/// Signs and verifies checkout tokens with one key.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    /// A fresh random key: tokens do not outlive the process that signed them.
    pub fn random() -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self::from_secret(&secret)
    }

    /// A fixed 32-byte key: never empty, which is the one thing jsonwebtoken refuses.
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // judged against the injected clock below
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Self {
            encoding: EncodingKey::from_secret(secret).expect("a 32-byte key is not empty"),
            decoding: DecodingKey::from_secret(secret).expect("a 32-byte key is not empty"),
            validation,
        }
    }

    pub fn sign(&self, claims: &CheckoutClaims) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(CHECKOUT_TOKEN_TYP.to_owned());
        encode(&header, claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str, now: UnixSeconds) -> Result<CheckoutClaims, TokenError> {
        let data = decode::<CheckoutClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.header.typ.as_deref() != Some(CHECKOUT_TOKEN_TYP) {
            return Err(TokenError::Invalid);
        }
        if now > data.claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}

/// A random identifier with a readable prefix, e.g. `jti` or an opaque token.
pub fn random_id(prefix: &str, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    format!("{prefix}{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixSeconds = 1_800_000_000;

    fn claims() -> CheckoutClaims {
        CheckoutClaims {
            partner_id: "partner_demo".into(),
            client_id: "demo_client_id".into(),
            customer_id: "cus_acme".into(),
            invoice_id: "inv_1001".into(),
            exp: NOW + 900,
            iat: NOW,
            jti: random_id("ct_", 16),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_until_exp_plus_leeway() {
        let keys = TokenKeys::random();
        let issued = claims();
        let token = keys.sign(&issued);
        assert_eq!(keys.verify(&token, NOW), Ok(issued));
        assert!(keys.verify(&token, NOW + 900 + LEEWAY_SECS).is_ok());
        assert_eq!(
            keys.verify(&token, NOW + 900 + LEEWAY_SECS + 1),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn edited_payload_with_the_old_signature_is_invalid() {
        let keys = TokenKeys::random();
        let token = keys.sign(&claims());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims();
        forged.invoice_id = "inv_2001".into();
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(keys.verify(&parts.join("."), NOW), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_signed_by_another_key_is_invalid() {
        let token = TokenKeys::random().sign(&claims());
        assert_eq!(
            TokenKeys::random().verify(&token, NOW),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        let keys = TokenKeys::random();
        for junk in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b",
            "a.b.c.d",
            "\u{0}\u{ffff}.x.y",
        ] {
            assert_eq!(keys.verify(junk, NOW), Err(TokenError::Invalid), "{junk:?}");
        }
    }

    #[test]
    fn a_jwt_without_the_checkout_typ_is_invalid() {
        let secret = [7u8; 32];
        let keys = TokenKeys::from_secret(&secret);
        let plain = encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(&secret).unwrap(),
        )
        .unwrap();
        assert_eq!(keys.verify(&plain, NOW), Err(TokenError::Invalid));
    }
}
