//! Entry points for the fuzz target in `alternative-client/fuzz/` (feature `fuzzing`):
//! the client's readers of what the vendor answers, which it must survive
//! whatever the vendor (or something in between) sends.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use crate::answers::{
    decode_answer, read_init_response, read_token_response, IssuedCheckoutToken, TokenResponse,
};
use crate::client::VendorInvoice;
use crate::jwks::{parse_jwks, TokenVerifier};
use crate::secret::OAuthAccessToken;
use crate::VendorError;

const NOW: u64 = 1_800_000_000;

/// Any bytes as the body of a vendor answer: the first byte picks which
/// answer (and, for refusals, which status) the rest is read as.
pub fn vendor_response(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 8 {
        0 => {
            if let Ok((token, _)) = token_response(body) {
                assert!(!token.expose().is_empty());
            }
        }
        1 | 2 => {
            let field = if which % 8 == 1 {
                "token"
            } else {
                "access_token"
            };
            if let Ok(issued) = init_response(body, field) {
                assert!(!issued.token.expose().is_empty());
            }
        }
        3 => {
            let _ = jwks(body);
        }
        4 => {
            let _ = invoice(body);
        }
        _ => {
            let status = [400, 401, 404, 409, 422][usize::from(which / 8) % 5];
            assert!(
                matches!(refusal(status, body), VendorError::Rejected { status: s, .. } if s == status),
                "a {status} must be read as a refusal"
            );
        }
    }
}

/// `POST /oauth/token`'s 200 body: the access token and its lifetime.
pub fn token_response(body: &[u8]) -> Result<(OAuthAccessToken, Duration), VendorError> {
    read_token_response(decode_answer::<TokenResponse>(StatusCode::OK, true, body)?)
}

/// `POST /v1/checkout-auth/init`'s 200 body, with the token under `token_field`.
pub fn init_response(body: &[u8], token_field: &str) -> Result<IssuedCheckoutToken, VendorError> {
    let value = decode_answer::<serde_json::Value>(StatusCode::OK, true, body)?;
    read_init_response(
        &value,
        token_field,
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
    )
}

/// The JWKS body, installed as the verifier's keys: how many keys it holds.
pub fn jwks(body: &[u8]) -> Result<usize, VendorError> {
    static VERIFIER: OnceLock<TokenVerifier> = OnceLock::new();
    let verifier =
        VERIFIER.get_or_init(|| TokenVerifier::new(reqwest::Client::new(), String::new()));
    let set = parse_jwks(body)?;
    let installed = verifier.install(&set);
    assert!(installed <= set.keys.len());
    Ok(installed)
}

/// `GET /checkout/v1/invoice`'s 200 body.
pub fn invoice(body: &[u8]) -> Result<VendorInvoice, VendorError> {
    decode_answer(StatusCode::OK, true, body)
}

/// A 4xx answer's body: always a refusal, with the vendor's code if it gave one.
pub fn refusal(status: u16, body: &[u8]) -> VendorError {
    let status = StatusCode::from_u16(status).expect("a valid status");
    match decode_answer::<serde_json::Value>(status, true, body) {
        Ok(_) => panic!("a {status} answer was read as a success"),
        Err(error) => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input the fuzzer kept (`fuzz/corpus/`), replayed as an ordinary
    /// test: what fuzzing found stays covered without a sanitizer build
    /// (real fuzzing: `scripts/fuzz`, `scripts/chaos long`).
    #[test]
    fn the_committed_corpus_replays_without_a_failure() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/vendor_responses");
        let mut replayed = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            vendor_response(&std::fs::read(entry.unwrap().path()).unwrap());
            replayed += 1;
        }
        assert!(replayed > 100, "only {replayed} inputs");
    }

    #[test]
    fn the_entry_points_take_garbage() {
        for data in [
            &b""[..],
            b"{",
            b"null",
            b"[]",
            &[0u8; 64],
            b"\x05{\"error\":1}",
        ] {
            super::vendor_response(data);
            for which in 0..=255u8 {
                let mut input = vec![which];
                input.extend_from_slice(data);
                super::vendor_response(&input);
            }
        }
    }

    #[test]
    fn the_entry_points_read_what_the_client_reads() {
        let (token, lifetime) =
            token_response(br#"{"access_token":"a","token_type":"bearer","expires_in":60}"#)
                .unwrap();
        assert_eq!((token.expose(), lifetime), ("a", Duration::from_secs(60)));
        assert!(
            token_response(br#"{"access_token":"a","token_type":"mac","expires_in":60}"#).is_err()
        );
        let issued = init_response(
            br#"{"access_token":"t","expires_at":"2027-01-15T08:00:30Z"}"#,
            "token",
        )
        .unwrap();
        assert_eq!(issued.token.expose(), "t");
        assert_eq!(issued.expires_in, Duration::from_secs(30));
        assert_eq!(
            init_response(br#"{"token":"t","expires_at":1800000060}"#, "token")
                .unwrap()
                .expires_in,
            Duration::from_secs(60)
        );
        assert_eq!(jwks(br#"{"keys":[]}"#).unwrap(), 0);
        assert!(jwks(b"{}").is_err());
        assert!(invoice(br#"{"invoice_number":"1"}"#).is_err());
        assert!(matches!(
            refusal(401, br#"{"error":"invalid_client"}"#),
            VendorError::Rejected { status: 401, code } if code == "invalid_client"
        ));
        assert!(matches!(
            refusal(404, b"<html>"),
            VendorError::Rejected { status: 404, code } if code == "unknown"
        ));
        // A code that could forge a log line is not carried.
        assert!(matches!(
            refusal(400, br#"{"code":"bad\nINFO logged in"}"#),
            VendorError::Rejected { status: 400, code } if code == "unknown"
        ));
    }
}
