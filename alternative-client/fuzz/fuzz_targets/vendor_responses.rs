//! Arbitrary bytes as a vendor answer's body (the first byte picks which):
//! the OAuth token response, the checkout-auth init response (token under
//! `token` or `access_token`, `expires_at` as RFC 3339 or Unix seconds), the
//! JWKS, the invoice, and a refusal's error body. Each goes through the
//! client's own readers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alternative_client::fuzzing::vendor_response(data));
