//! Receiving the vendor's events: checking that a delivery to the merchant's
//! webhook endpoint is the vendor's, recent, and well formed, before anything
//! in it is believed.
//!
//! The vendor signs each delivery with the endpoint's secret:
//! `Alternative-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each `v1`
//! an HMAC-SHA256 (RFC 2104) over `"<t>.<raw body>"`. [`verify_event`]
//! recomputes it over the raw bytes as received (never a re-serialised
//! body), compares in constant time, and refuses a timestamp outside the
//! tolerance either way — a captured delivery cannot be replayed later.
//!
//! ```
//! use alternative_client::webhook::{verify_event, WebhookSecrets, DEFAULT_TOLERANCE};
//! # fn handle(signature: Option<&str>, body: &[u8]) {
//! let secrets = WebhookSecrets::parse("whsec_0123456789abcdef").unwrap();
//! match verify_event(&secrets, signature, body, std::time::SystemTime::now(), DEFAULT_TOLERANCE) {
//!     // Store it (once per `event.id`), then answer 2xx.
//!     Ok(event) => {}
//!     // Answer 400; the vendor retries, and a forger learns nothing.
//!     Err(refused) => {}
//! }
//! # }
//! ```
//!
//! Rotating the secret: add the new one to the endpoint's secrets here
//! first (both verify), then make the vendor sign with both, then with the
//! new one alone, then drop the old one here.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "alternative-signature";

/// How far a delivery's timestamp may be from the receiver's clock: five
/// minutes, as the big vendors advise; a retry is signed anew, so only a
/// replay is older.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The largest body worth reading: events are a few hundred bytes.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// The type of the event that says an invoice was paid.
pub const PAYMENT_SUCCEEDED: &str = "payment.succeeded";

/// The endpoint's signing secrets (`whsec_…`): usually one, two during a
/// rotation. Never printed.
#[derive(Clone)]
pub struct WebhookSecrets(Vec<String>);

impl WebhookSecrets {
    /// A comma-separated list of `whsec_` secrets, at least 16 characters
    /// after the prefix each.
    pub fn parse(list: &str) -> Result<Self, &'static str> {
        let secrets: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix("whsec_") {
                Some(rest) if rest.len() >= 16 && rest.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(s.to_owned())
                }
                _ => Err("a signing secret is whsec_ and at least 16 visible characters"),
            })
            .collect::<Result<_, _>>()?;
        if secrets.is_empty() {
            return Err("no signing secret");
        }
        Ok(Self(secrets))
    }
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} redacted)", self.0.len())
    }
}

/// Why a delivery was refused. None says which secret was tried or what
/// the right signature would have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no Alternative-Signature header")]
    MissingSignature,
    #[error("the Alternative-Signature header is not t=<seconds>,v1=<hex>")]
    MalformedSignature,
    /// No `v1` matches any secret: forged, altered, or another secret.
    #[error("the signature does not match")]
    BadSignature,
    /// Signed too long ago (or ahead): a replay, or a clock far off.
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("the body is over {MAX_EVENT_BYTES} bytes")]
    TooLarge,
    /// Genuine, but not an event of the documented shape.
    #[error("the event is malformed: {0}")]
    Malformed(&'static str),
}

/// A verified event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Unique per event, and the same on every delivery of it.
    pub id: String,
    /// E.g. `payment.succeeded`.
    pub kind: String,
    /// When the vendor created it (RFC 3339).
    pub created_at: String,
    pub payload: Payload,
}

/// What an event says, for the types this client knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// `payment.succeeded`: an invoice was paid.
    PaymentSucceeded(Payment),
    /// A type this client does not know (the vendor may add types):
    /// acknowledge it, keep it, act on nothing.
    Unknown,
    /// A `payment.succeeded` whose payment is missing or off its shape
    /// ([`Payment::check`]; e.g. a control character in an id): genuine,
    /// so keep it for a person and acknowledge it — retrying cannot mend
    /// it — but record no payment from it.
    Malformed(&'static str),
}

/// A payment, as an event or the vendor's invoice read reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Payment {
    #[serde(rename = "id")]
    pub payment_id: String,
    pub invoice_id: String,
    pub amount: String,
    pub currency: String,
}

impl Payment {
    /// Whether each field has the shape the vendor documents: ids of 1–64
    /// `[A-Za-z0-9_-]`, an amount of digits with at most two decimals, a
    /// currency of three capital letters (ISO 4217). Checked before any of
    /// it is stored: a NUL, say, would make PostgreSQL refuse the row on
    /// every attempt.
    pub fn check(&self) -> Result<(), &'static str> {
        let id = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !id(&self.payment_id) || !id(&self.invoice_id) {
            return Err("a payment's and its invoice's ids are 1-64 letters, digits, _ or -");
        }
        let (units, cents) = self.amount.split_once('.').unwrap_or((&self.amount, "00"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(units) && units.len() <= 15 && digits(cents) && cents.len() <= 2) {
            return Err("a payment's amount is a decimal with at most two decimals");
        }
        if !(self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err("a payment's currency is three capital letters");
        }
        Ok(())
    }

    /// Whether this payment pays an invoice of `total` in `currency`: the
    /// same amount as decimals ("12.5" is "12.50", "7" is "7.00"; no float)
    /// in the same currency. The vendor took the money either way; only a
    /// payment that matches makes the invoice paid.
    pub fn pays(&self, total: &str, currency: &str) -> bool {
        same_amount(total, &self.amount) && currency == self.currency
    }
}

/// Two amounts as the vendor writes them, compared as decimals.
fn same_amount(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let (units, cents) = s.split_once('.').unwrap_or((s, ""));
        format!("{units}.{cents:0<2}")
    };
    norm(a) == norm(b)
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created_at: String,
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct PaymentData {
    payment: Payment,
}

/// Checks that `body` was signed by the vendor (`signature`: the
/// `Alternative-Signature` header) with one of `secrets` within `tolerance`
/// of `now`, and reads the event in it.
pub fn verify_event(
    secrets: &WebhookSecrets,
    signature: Option<&str>,
    body: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> Result<Event, WebhookError> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(WebhookError::TooLarge);
    }
    let (timestamp, signatures) =
        parse_signature(signature.ok_or(WebhookError::MissingSignature)?)?;
    let genuine = secrets.0.iter().any(|secret| {
        signatures.iter().any(|candidate| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes a key of any length");
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            // `verify_slice` compares in constant time.
            mac.verify_slice(candidate).is_ok()
        })
    });
    if !genuine {
        return Err(WebhookError::BadSignature);
    }
    let signed_at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            timestamp
                .parse()
                .map_err(|_| WebhookError::MalformedSignature)?,
        );
    let off = now
        .duration_since(signed_at)
        .unwrap_or_else(|ahead| ahead.duration());
    if off > tolerance {
        return Err(WebhookError::Stale);
    }
    read_event(body)
}

/// The `t` and every `v1` (decoded) of a signature header; other schemes
/// (`v0`, a future `v2`) are skipped, as the big vendors' receivers do.
fn parse_signature(header: &str) -> Result<(&str, Vec<Vec<u8>>), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(WebhookError::MalformedSignature)?;
        match key {
            "t" if timestamp.is_none()
                && !value.is_empty()
                && value.len() <= 12
                && value.bytes().all(|b| b.is_ascii_digit()) =>
            {
                timestamp = Some(value);
            }
            "t" => return Err(WebhookError::MalformedSignature),
            "v1" => signatures.push(unhex(value).ok_or(WebhookError::MalformedSignature)?),
            _ => {}
        }
    }
    match timestamp {
        Some(t) if !signatures.is_empty() && signatures.len() <= 8 => Ok((t, signatures)),
        _ => Err(WebhookError::MalformedSignature),
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Reads an event the vendor listed (`VendorClient::events_after`): no
/// signature to check — it came over the merchant's own authenticated call
/// — but the same shape checks as a delivered one, so both paths record the
/// same thing.
pub fn read_listed_event(body: &[u8]) -> Result<Event, WebhookError> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(WebhookError::TooLarge);
    }
    read_event(body)
}

fn read_event(body: &[u8]) -> Result<Event, WebhookError> {
    let raw: RawEvent = serde_json::from_slice(body)
        .map_err(|_| WebhookError::Malformed("not an event object {id, type, created_at, data}"))?;
    let printable =
        |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic());
    if !printable(&raw.id) || !printable(&raw.kind) {
        return Err(WebhookError::Malformed(
            "an event id and type are 1-64 visible characters",
        ));
    }
    let payload = match raw.kind.as_str() {
        PAYMENT_SUCCEEDED => match serde_json::from_value::<PaymentData>(raw.data) {
            Ok(data) => match data.payment.check() {
                Ok(()) => Payload::PaymentSucceeded(data.payment),
                Err(problem) => Payload::Malformed(problem),
            },
            Err(_) => Payload::Malformed("payment.succeeded without its payment"),
        },
        _ => Payload::Unknown,
    };
    Ok(Event {
        id: raw.id,
        kind: raw.kind,
        created_at: raw.created_at,
        payload,
    })
}

/// Signs `body` at `timestamp` as the vendor does: for tests of a receiver.
#[doc(hidden)]
pub fn sign_for_tests(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests;
