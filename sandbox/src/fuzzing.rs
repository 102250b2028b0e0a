//! Entry points for the fuzz targets in `sandbox/fuzz/` (feature `fuzzing`):
//! the parsers and verifiers that face untrusted bytes first.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue};

use crate::token::CheckoutTokens;

const NOW: u64 = 1_800_000_000;

/// Any bytes as a checkout token: must answer, never panic.
pub fn verify_token(data: &[u8]) {
    static TOKENS: OnceLock<CheckoutTokens> = OnceLock::new();
    let tokens = TOKENS.get_or_init(|| CheckoutTokens::with_new_key(NOW));
    let _ = tokens.verify(&String::from_utf8_lossy(data), NOW);
}

/// Any bytes as an `Authorization` header value, read as Bearer and as Basic.
pub fn parse_authorization(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    let _ = crate::bearer::bearer_token(&headers);
    let _ = crate::bearer::basic_credentials(&headers);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_entry_points_take_garbage() {
        for data in [
            &b""[..],
            b"Bearer ",
            b"Basic \xff\xfe",
            b"a.b.c",
            &[0u8; 64],
        ] {
            super::verify_token(data);
            super::parse_authorization(data);
        }
    }
}
