//! Reading what the vendor answers: the OAuth token response, the init
//! response's token and lifetime, error bodies, `Date` — each checked
//! against the contract before anything is believed (and fuzzed: the
//! `fuzzing` feature's entry points are these).

use std::time::{Duration, SystemTime};

use reqwest::{header, StatusCode};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::VendorError;
use crate::secret::{CheckoutToken, OAuthAccessToken};

/// A checkout token and how long it has left, as the vendor reported it.
#[derive(Debug, Clone)]
pub struct IssuedCheckoutToken {
    pub token: CheckoutToken,
    /// `expires_at` minus this server's clock at arrival: what the browser
    /// schedules its refresh from, since its own clock may be off.
    pub expires_in: Duration,
    /// The token's id, the one part of it that may be logged.
    pub jti: Option<String>,
}

/// Below this, a checkout token is refused as [`VendorError::Malformed`]:
/// no page can use a token that ends before it arrives, and handing it out
/// would only make every page ask again at once.
pub const MIN_CHECKOUT_LIFETIME: Duration = Duration::from_secs(2);
/// Above this, a checkout token's lifetime is cut to it (and logged): the
/// vendor's tokens are meant to be short-lived (15 minutes in the sandbox),
/// and a page should not trust a date a day away, whatever the vendor says.
pub const MAX_CHECKOUT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    /// `error` on the OAuth endpoint (RFC 6749), `code` on the others.
    #[serde(alias = "error")]
    code: Option<String>,
}

/// The OAuth token response (RFC 6749 §5.1): a Bearer token and its lifetime.
pub(crate) fn read_token_response(
    body: TokenResponse,
) -> Result<(OAuthAccessToken, Duration), VendorError> {
    if !body
        .token_type
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        return Err(VendorError::Malformed("token_type is not Bearer"));
    }
    let token = body
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(VendorError::Malformed(
            "no access_token in the token response",
        ))?;
    let lifetime = body.expires_in.ok_or(VendorError::Malformed(
        "no expires_in in the token response",
    ))?;
    Ok((OAuthAccessToken::new(token), Duration::from_secs(lifetime)))
}

/// The init response: the token under `token_field` (or the other known
/// name) and how long it has left at `now`.
pub(crate) fn read_init_response(
    body: &serde_json::Value,
    token_field: &str,
    now: SystemTime,
) -> Result<IssuedCheckoutToken, VendorError> {
    let other = if token_field == "token" {
        "access_token"
    } else {
        "token"
    };
    let token = [token_field, other]
        .into_iter()
        .find_map(|field| body.get(field)?.as_str())
        .filter(|t| !t.is_empty())
        .ok_or(VendorError::Malformed("no token in the init response"))?;
    let expires_at =
        body.get("expires_at")
            .and_then(parse_instant)
            .ok_or(VendorError::Malformed(
                "no usable expires_at in the init response",
            ))?;
    let expires_in = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
    Ok(IssuedCheckoutToken {
        token: CheckoutToken::new(token),
        expires_in,
        jti: None,
    })
}

/// A checkout token's lifetime within [`MIN_CHECKOUT_LIFETIME`] and
/// [`MAX_CHECKOUT_LIFETIME`]: too short is refused, too long is cut.
pub(crate) fn bounded_lifetime(lifetime: Duration) -> Result<Duration, VendorError> {
    if lifetime < MIN_CHECKOUT_LIFETIME {
        tracing::warn!(
            lifetime_ms = lifetime.as_millis() as u64,
            "refused a checkout token that lives under 2 s"
        );
        return Err(VendorError::Malformed(
            "the checkout token expires too soon to be used",
        ));
    }
    if lifetime > MAX_CHECKOUT_LIFETIME {
        tracing::warn!(
            lifetime_secs = lifetime.as_secs(),
            "a checkout token said to live over 24 h: its lifetime is cut to 24 h"
        );
        return Ok(MAX_CHECKOUT_LIFETIME);
    }
    Ok(lifetime)
}

/// "Now" on the vendor's clock: the `Date` of its answer (RFC 9110 §6.6.1),
/// or this server's clock if it sent none. Lifetimes and expiry are judged
/// against it, so the two clocks need not agree: the vendor's `expires_at`
/// minus the vendor's `Date` is the lifetime the vendor meant, to a second.
pub(crate) fn vendor_time(response: &reqwest::Response) -> SystemTime {
    response
        .headers()
        .get(header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .unwrap_or_else(SystemTime::now)
}

/// The body of a 2xx as `T`; anything else as the matching error.
pub(crate) async fn success_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, VendorError> {
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Err(VendorError::Unavailable {
            reason: format!("HTTP {}", status.as_u16()),
            retry_after,
        });
    }
    if status.is_redirection() {
        return Err(VendorError::Malformed(
            "the vendor answered with a redirect",
        ));
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bytes = response
        .bytes()
        .await
        .map_err(VendorError::from_transport)?;
    decode_answer(status, is_json, &bytes)
}

/// A (non-5xx, non-429, non-redirect) answer's body: `T` from a 2xx in JSON,
/// otherwise the matching error, with the vendor's error code if it sent one.
pub(crate) fn decode_answer<T: serde::de::DeserializeOwned>(
    status: StatusCode,
    is_json: bool,
    bytes: &[u8],
) -> Result<T, VendorError> {
    if !status.is_success() {
        let body: ErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
        // The code ends up in log lines: only a short token of the shape
        // error codes have (RFC 6749 §5.2's are `[a-z_]`), nothing else.
        let code = body
            .code
            .filter(|c| {
                c.len() <= 64
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
            })
            .unwrap_or_else(|| "unknown".into());
        return Err(VendorError::Rejected {
            status: status.as_u16(),
            code,
        });
    }
    if !is_json {
        return Err(VendorError::Malformed("the answer is not JSON"));
    }
    serde_json::from_slice(bytes)
        .map_err(|_| VendorError::Malformed("the answer is not the expected JSON"))
}

/// `expires_at` as RFC 3339 text or Unix seconds: clients of the real API report both.
fn parse_instant(value: &serde_json::Value) -> Option<SystemTime> {
    let unix = match value {
        serde_json::Value::Number(n) => n.as_i64()?,
        serde_json::Value::String(s) => match s.parse::<i64>() {
            Ok(n) => n,
            Err(_) => OffsetDateTime::parse(s, &Rfc3339).ok()?.unix_timestamp(),
        },
        _ => return None,
    };
    let secs = u64::try_from(unix).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expires_at_is_read_as_rfc3339_or_unix_seconds() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(parse_instant(&json!("2027-01-15T08:00:00Z")), Some(at));
        assert_eq!(parse_instant(&json!(1_800_000_000)), Some(at));
        assert_eq!(parse_instant(&json!("1800000000")), Some(at));
        assert_eq!(parse_instant(&json!("tomorrow")), None);
        assert_eq!(parse_instant(&json!(-5)), None);
        assert_eq!(parse_instant(&json!(null)), None);
    }

    #[test]
    fn lifetimes_too_short_are_refused_and_too_long_cut() {
        for short in [0, 1_000, 1_999] {
            let err = bounded_lifetime(Duration::from_millis(short)).unwrap_err();
            assert!(matches!(err, VendorError::Malformed(_)), "{short} ms");
        }
        for fine in [
            MIN_CHECKOUT_LIFETIME,
            Duration::from_secs(900),
            MAX_CHECKOUT_LIFETIME,
        ] {
            assert_eq!(bounded_lifetime(fine).unwrap(), fine);
        }
        assert_eq!(
            bounded_lifetime(Duration::from_secs(365 * 24 * 3600)).unwrap(),
            MAX_CHECKOUT_LIFETIME
        );
    }
}
