//! Signed links to invoice files: a URL that is its own authority, since the
//! browser opens it as a plain link and no bearer token goes with it. The
//! authority is an HMAC-SHA256 (RFC 2104) over the invoice id and the expiry,
//! under a key of this process's own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;

use crate::clock::UnixSeconds;
use crate::error::ApiError;

pub struct LinkSigner {
    key: [u8; 32],
}

impl LinkSigner {
    /// A per-process key: links are short-lived, so a restart may void them.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self { key }
    }

    fn mac(&self, invoice_id: &str, expires: UnixSeconds) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("{invoice_id}\n{expires}").as_bytes());
        mac
    }

    pub fn sign(&self, invoice_id: &str, expires: UnixSeconds) -> String {
        B64.encode(self.mac(invoice_id, expires).finalize().into_bytes())
    }

    /// The invoice id of a link to `file` (`<invoice id>.pdf`) that this
    /// signer signed and that has not expired at `now`.
    pub(crate) fn check<'a>(
        &self,
        file: &'a str,
        query: &LinkQuery,
        now: UnixSeconds,
    ) -> Result<&'a str, ApiError> {
        let invoice_id = file
            .strip_suffix(".pdf")
            .ok_or(ApiError::NotFound("no such file"))?;
        if !self.verify(invoice_id, query.expires, &query.signature) {
            return Err(ApiError::NotFound("no such file"));
        }
        if now > query.expires {
            return Err(ApiError::NotFound(
                "this link has expired; ask for a new one",
            ));
        }
        Ok(invoice_id)
    }

    fn verify(&self, invoice_id: &str, expires: UnixSeconds, signature: &str) -> bool {
        let Ok(signature) = B64.decode(signature) else {
            return false;
        };
        // verify_slice compares in constant time.
        self.mac(invoice_id, expires)
            .verify_slice(&signature)
            .is_ok()
    }
}

/// A link's query string: `?expires=<unix time>&signature=<base64url>`.
#[derive(Deserialize)]
pub struct LinkQuery {
    expires: UnixSeconds,
    signature: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_signature_covers_the_invoice_and_the_expiry() {
        let signer = LinkSigner::random();
        let sig = signer.sign("inv_1001", 100);
        assert!(signer.verify("inv_1001", 100, &sig));
        assert!(!signer.verify("inv_1002", 100, &sig));
        assert!(!signer.verify("inv_1001", 101, &sig));
        assert!(!signer.verify("inv_1001", 100, "not-base64!"));
        assert!(!LinkSigner::random().verify("inv_1001", 100, &sig));
    }
}
