//! The webhook signature: `Alternative-Signature: t=<unix seconds>,v1=<hex>`,
//! where each `v1` is HMAC-SHA256 (RFC 2104) keyed with one of the
//! endpoint's signing secrets over `"<t>.<raw body>"` — the shape Stripe's
//! and others' webhooks use. The timestamp is inside the signed bytes, so a
//! receiver that refuses old timestamps refuses replays; during a secret
//! rotation every current secret signs, one `v1` each, so a receiver that
//! knows either secret accepts the delivery.

use axum::http::HeaderName;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::WebhookSecret;
use crate::clock::UnixSeconds;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("alternative-signature");

/// The header's value for `body` sent at `timestamp`, signed with every one
/// of `secrets`.
pub fn signature_header(secrets: &[WebhookSecret], timestamp: UnixSeconds, body: &[u8]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        value.push_str(",v1=");
        value.push_str(&hex(&mac.finalize().into_bytes()));
    }
    value
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_signs_once_over_the_timestamp_and_the_body() {
        let one = WebhookSecret::parse("whsec_0123456789abcdef0123").unwrap();
        let two = WebhookSecret::parse("whsec_fedcba9876543210fedc").unwrap();
        let header = signature_header(&[one.clone(), two], 1_800_000_000, b"{}");
        let parts: Vec<&str> = header.split(',').collect();
        assert_eq!(parts[0], "t=1800000000");
        assert_eq!(parts.len(), 3);
        assert!(parts[1].starts_with("v1=") && parts[1].len() == 3 + 64);
        assert_ne!(parts[1], parts[2]);
        // Another body or another time is another signature.
        let one = [one];
        assert_ne!(
            signature_header(&one, 1_800_000_000, b"{ }"),
            signature_header(&one, 1_800_000_000, b"{}")
        );
        assert_ne!(
            signature_header(&one, 1_800_000_001, b"{}"),
            signature_header(&one, 1_800_000_000, b"{}")
        );
    }
}
