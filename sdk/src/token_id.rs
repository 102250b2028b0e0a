//! The id (`jti`, RFC 7519 §4.1.7) of a checkout token, read in the browser
//! without verifying anything: only to tell the merchant's server which of
//! its tokens the vendor refused, so it does not hand that one out again.
//! The id is the one part of a token that may be logged; the token itself
//! never leaves the page for that.

/// The one claim read; the others are skipped unparsed (a struct, not a
/// `serde_json::Value`: that would add kilobytes to the wasm).
#[derive(serde::Deserialize)]
struct Claims {
    jti: Option<String>,
}

/// The `jti` of a JWT, if it is one and has an id of a sane shape.
pub fn token_id(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let claims: Claims = serde_json::from_slice(&base64url(payload)?).ok()?;
    let jti = claims.jti?;
    let sane = !jti.is_empty()
        && jti.len() <= 64
        && jti
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    sane.then_some(jti)
}

/// Base64url without padding (RFC 4648 §5, as JWS uses it: RFC 7515 §2).
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0u32);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_id_of_a_jwt_and_nothing_else() {
        // {"alg":"EdDSA"} . {"jti":"ct_abc-123","exp":1} . signature
        let token = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJjdF9hYmMtMTIzIiwiZXhwIjoxfQ.c2ln";
        assert_eq!(token_id(token).as_deref(), Some("ct_abc-123"));
        assert_eq!(token_id("opaque-token"), None);
        assert_eq!(token_id("a.!!!.c"), None);
        // {"jti":"a b"}: not an id this page would send anywhere.
        assert_eq!(token_id("x.eyJqdGkiOiJhIGIifQ.y"), None);
        // {"sub":"x"}: no id.
        assert_eq!(token_id("x.eyJzdWIiOiJ4In0.y"), None);
    }

    #[test]
    fn decodes_base64url_of_every_length() {
        assert_eq!(base64url("").unwrap(), b"");
        assert_eq!(base64url("YQ").unwrap(), b"a");
        assert_eq!(base64url("YWI").unwrap(), b"ab");
        assert_eq!(base64url("YWJj").unwrap(), b"abc");
        assert_eq!(base64url("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url("YW=="), None, "no padding in JWS");
    }
}
