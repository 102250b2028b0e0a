//! Entry points for the fuzz targets in `sandbox/fuzz/` (feature `fuzzing`):
//! the parsers and verifiers that face untrusted bytes first.

use std::sync::OnceLock;

use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::Json;

use crate::error::{ApiError, OAuthError};
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

/// Any bytes as a request body (or the PDF link's path and query): the first
/// byte picks which endpoint reads the rest, as its handler does.
pub fn sandbox_body(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => {
            let _ = token_request(body, false);
        }
        1 => {
            let _ = token_request(body, true);
        }
        2 => {
            if let Ok((customer_id, invoice_id)) = init_request(body) {
                for id in [customer_id, invoice_id] {
                    assert!(!id.is_empty() && id.len() <= 64, "{id:?}");
                    assert!(id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
                }
            }
        }
        3 => {
            if let Ok((method_id, amount)) = payment_request(body) {
                assert!(!method_id.is_empty() && method_id.len() <= 64);
                assert!(amount >= 0, "{amount}");
            }
        }
        _ => {
            let _ = pdf_link(body);
        }
    }
}

/// `POST /oauth/token`: the form body (with client credentials in it, or in
/// a Basic header when `basic`), read as the handler reads it before it
/// looks the client up.
pub fn token_request(body: &[u8], basic: bool) -> Result<(String, String), OAuthError> {
    let mut headers = HeaderMap::new();
    if basic {
        // demo:secret
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic ZGVtbzpzZWNyZXQ="),
        );
    }
    let form = crate::oauth::TokenForm::parse(body)?;
    let credentials = form.client_credentials(&headers)?;
    form.grant_type()?;
    Ok(credentials)
}

/// `POST /v1/checkout-auth/init`'s JSON body: the customer and invoice ids.
pub fn init_request(body: &[u8]) -> Result<(String, String), ApiError> {
    crate::checkout_auth::requested_ids(Json::from_bytes(body))
}

/// `POST /checkout/v1/payments`' JSON body: the payment method and cents.
pub fn payment_request(body: &[u8]) -> Result<(String, i64), ApiError> {
    crate::payments::requested_payment(Json::from_bytes(body))
}

/// `GET /files/invoices/{file}?{query}`: `data` is the file name (as the
/// path extractor decodes it), then `?`, then the raw query string. The key
/// is random, so no signature holds: this covers reading and refusing.
pub fn pdf_link(data: &[u8]) -> Result<String, ApiError> {
    static SIGNER: OnceLock<crate::links::LinkSigner> = OnceLock::new();
    let signer = SIGNER.get_or_init(crate::links::LinkSigner::random);
    let data = String::from_utf8_lossy(data);
    let (file, query) = data.split_once('?').unwrap_or((&data, ""));
    // Only a query a request line can carry reaches the handler.
    let Ok(uri) = format!("/files/invoices/x?{query}").parse::<Uri>() else {
        return Err(ApiError::InvalidRequest("not a URI"));
    };
    let Ok(Query(query)) = Query::try_from_uri(&uri) else {
        // As the handler answers an incomplete link.
        return Err(ApiError::NotFound("no such file"));
    };
    signer.check(file, &query, NOW).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input the fuzzer kept (`fuzz/corpus/<target>/`), replayed as
    /// an ordinary test: what fuzzing found stays covered without a
    /// sanitizer build (real fuzzing: `scripts/fuzz`, `scripts/chaos long`).
    #[test]
    fn the_committed_corpus_replays_without_a_failure() {
        type Entry = fn(&[u8]);
        let targets: [(&str, Entry); 3] = [
            ("token_verifier", verify_token),
            ("authorization_header", parse_authorization),
            ("sandbox_bodies", sandbox_body),
        ];
        for (target, entry) in targets {
            let dir = format!("{}/fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
            let mut replayed = 0;
            for file in std::fs::read_dir(&dir).unwrap() {
                entry(&std::fs::read(file.unwrap().path()).unwrap());
                replayed += 1;
            }
            assert!(replayed > 100, "{target}: only {replayed} inputs");
        }
    }

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
            super::sandbox_body(data);
        }
    }

    #[test]
    fn the_body_entry_points_read_what_the_handlers_read() {
        assert_eq!(
            super::token_request(
                b"grant_type=client_credentials&client_id=a&client_secret=b",
                false
            ),
            Ok(("a".into(), "b".into()))
        );
        assert_eq!(
            super::token_request(b"grant_type=client_credentials", true),
            Ok(("demo".into(), "secret".into()))
        );
        assert!(super::token_request(b"grant_type=x&grant_type=y", true).is_err());
        assert_eq!(
            super::init_request(br#"{"customer_id":"cus_1","invoice_id":"inv_1"}"#),
            Ok(("cus_1".into(), "inv_1".into()))
        );
        assert!(super::init_request(br#"{"customer_id":"a b","invoice_id":"inv_1"}"#).is_err());
        assert_eq!(
            super::payment_request(br#"{"payment_method_id":"pm_1","amount":"12.5"}"#),
            Ok(("pm_1".into(), 1250))
        );
        assert!(super::payment_request(b"[]").is_err());
        assert!(super::pdf_link(b"inv_1.pdf?expires=1&signature=AAAA").is_err());
    }
}
