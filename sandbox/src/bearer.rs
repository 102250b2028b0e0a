//! Reading credentials out of the `Authorization` header.
//!
//! Only the header counts: RFC 6750 §2.3's query-string token is never read,
//! because URLs end up in logs and `Referer` headers.

use axum::http::{header, HeaderMap};
use base64::Engine;

/// Longest `Authorization` value considered: far above any token this vendor
/// issues, small enough that nothing large reaches a parser or a hash.
const MAX_AUTHORIZATION_LEN: usize = 4096;

fn authorization(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?;
    if value.len() > MAX_AUTHORIZATION_LEN {
        return None;
    }
    value.to_str().ok()
}

/// The credentials after `<scheme> `, scheme matched case-insensitively (RFC 9110 §11.1).
fn credentials<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = authorization(headers)?;
    let (given, rest) = value.split_once(' ')?;
    if !given.eq_ignore_ascii_case(scheme) {
        return None;
    }
    let rest = rest.trim();
    (!rest.is_empty()).then_some(rest)
}

/// A bearer token (RFC 6750 §2.1).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    credentials(headers, "Bearer")
}

/// HTTP Basic client credentials (RFC 7617), form-urlencoded inside as RFC 6749 §2.3.1 requires.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = credentials(headers, "Basic")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

fn form_decode(value: &str) -> Option<String> {
    // serde_urlencoded decodes `+` and `%XX` exactly as the form encoding defines.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={value}")).ok()?;
    match pairs.as_slice() {
        [(_, decoded)] => Some(decoded.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token(&with_auth("bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&with_auth("Bearer  abc ")), Some("abc"));
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_refused() {
        assert_eq!(bearer_token(&with_auth("Basic abc")), None);
        assert_eq!(bearer_token(&with_auth("Bearer ")), None);
        assert_eq!(bearer_token(&with_auth("Bearer")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn an_oversized_header_is_refused() {
        let huge = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_LEN));
        assert_eq!(bearer_token(&with_auth(&huge)), None);
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        // "my%20id:s%3Acret" — a colon in the secret survives because it is encoded.
        let headers = with_auth("Basic bXklMjBpZDpzJTNBY3JldA==");
        assert_eq!(
            basic_credentials(&headers),
            Some(("my id".to_owned(), "s:cret".to_owned()))
        );
    }

    #[test]
    fn basic_garbage_is_refused() {
        assert_eq!(basic_credentials(&with_auth("Basic !!!")), None);
        assert_eq!(basic_credentials(&with_auth("Basic bm9jb2xvbg==")), None); // "nocolon"
    }
}
