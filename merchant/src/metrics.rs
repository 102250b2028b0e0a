//! What the merchant side measures, through the `metrics` facade (kept only
//! when the application installs a recorder: `MERCHANT_METRICS_ADDR`). The
//! vendor client's own series are in `alternative_client::metrics`.

/// Counter: mints, by `outcome` ([`MintOutcome`]).
pub const MINTS: &str = "merchant_mints_total";
/// Histogram, seconds: how long a mint took, by `outcome`.
pub const MINT_DURATION: &str = "merchant_mint_duration_seconds";
/// Counter: log-ins, by `outcome`: `ok`, `invalid_credentials`, `limited`
/// (refused by the failed-log-in limits), `bad_request`, `error`.
pub const LOGINS: &str = "merchant_logins_total";
/// Gauge: live sessions (logged-in users), read when scraped.
pub const ACTIVE_SESSIONS: &str = "merchant_active_sessions";
/// Counter: payments recorded whose amount or currency is not their
/// invoice's (each needs a person; also logged as an error).
pub const PAYMENT_MISMATCHES: &str = "merchant_payment_mismatches_total";
/// Counter: runs of the catch-up on the vendor's event list, by `outcome`:
/// `ok`, `failed` (the vendor or the database; tried again next period).
pub const CATCH_UP_RUNS: &str = "merchant_events_catch_up_runs_total";
/// Counter: events the catch-up found that the webhook had not delivered,
/// by `outcome` (what recording them did: `recorded`, `mismatch`, …).
pub const CATCH_UP_FOUND: &str = "merchant_events_caught_up_total";

/// How a mint ended, as the `outcome` label says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintOutcome {
    /// The token already handed out for this invoice, again.
    Reused,
    /// A new token from the vendor.
    Issued,
    /// Not one of the user's invoices.
    UnknownInvoice,
    /// The merchant's records say the invoice is paid.
    Paid,
    /// The merchant's records hold a payment that does not match it.
    PaymentMismatch,
    /// The vendor refused (e.g. already paid).
    Refused,
    /// Over the vendor quota: "busy, retry in N s".
    Busy,
    /// The vendor was down, slow or answered nonsense.
    VendorFailed,
    /// The merchant's own database failed.
    Storage,
}

impl MintOutcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Reused => "reused",
            Self::Issued => "issued",
            Self::UnknownInvoice => "unknown_invoice",
            Self::Paid => "paid",
            Self::PaymentMismatch => "payment_mismatch",
            Self::Refused => "refused",
            Self::Busy => "busy",
            Self::VendorFailed => "vendor_failed",
            Self::Storage => "storage",
        }
    }
}

/// Counts a mint and its duration.
pub(crate) fn mint(outcome: MintOutcome, took: std::time::Duration) {
    let outcome = outcome.label();
    metrics::counter!(MINTS, "outcome" => outcome).increment(1);
    metrics::histogram!(MINT_DURATION, "outcome" => outcome).record(took.as_secs_f64());
}

/// Counts a log-in by its outcome (see [`LOGINS`]).
pub fn login(outcome: &'static str) {
    metrics::counter!(LOGINS, "outcome" => outcome).increment(1);
}
