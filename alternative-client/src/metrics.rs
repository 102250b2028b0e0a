//! What the client measures, through the `metrics` facade: nothing is kept
//! unless the application installs a recorder (the merchant's server
//! installs a Prometheus one when `MERCHANT_METRICS_ADDR` is set), and then
//! these series, named as Prometheus advises (base units, `_total` on
//! counters). OAuth token fetches and JWKS fetches are the vendor calls of
//! those endpoints: one series each, not a second counter.
//!
//! Every call to the vendor goes out through `transport::send`: with the
//! request id of the work it is made for, timed, and counted here by
//! endpoint and status.

/// Counter: calls to the vendor, by `endpoint` ([`Endpoint::label`]) and
/// `status` (the HTTP status, or `timeout` / `transport` without one).
pub const VENDOR_CALLS: &str = "alternative_vendor_calls_total";
/// Histogram, seconds: how long a vendor call took to answer, by `endpoint`.
pub const VENDOR_CALL_DURATION: &str = "alternative_vendor_call_duration_seconds";
/// Counter: calls that waited for their turn under the vendor's quota.
pub const QUOTA_WAITS: &str = "alternative_quota_waits_total";
/// Counter: calls refused as busy (over the quota for longer than the
/// longest wait, or their caller's places in the queue taken).
pub const QUOTA_REFUSALS: &str = "alternative_quota_refusals_total";

/// The vendor's endpoints, as the `endpoint` label names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    OAuthToken,
    Init,
    Invoice,
    Settlement,
    Events,
    Jwks,
}

impl Endpoint {
    pub fn label(self) -> &'static str {
        match self {
            Self::OAuthToken => "oauth_token",
            Self::Init => "init",
            Self::Invoice => "invoice",
            Self::Settlement => "settlement",
            Self::Events => "events",
            Self::Jwks => "jwks",
        }
    }
}
