//! What the merchant side measures, through the `metrics` facade (kept only
//! when the application installs a recorder: `MERCHANT_METRICS_ADDR`). The
//! vendor client's own series are in `alternative_client::metrics`.

/// Counter: mints, by `outcome` ([`MintOutcome`]) and by `reason`, why
/// the page asked ([`MintReason`]).
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

/// Why a mint was asked for, as the `reason` label says it: the page's
/// SDK says why it wants a token (its refresh's reason), so a merchant
/// sees how many payers met an expired token, woke a sleeping tab, and so
/// on. Anything else a caller sends is `unknown`: the label's values stay
/// these few, whatever arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintReason {
    /// The page's first token.
    First,
    /// The page's timer, a margin before expiry.
    Timer,
    /// The vendor refused the page's token as expired (a 401).
    Expired,
    /// Another tab of the checkout asked (its token was not shared in time).
    Tab,
    /// The page woke up: shown again, back online, restored, resumed.
    WakeUp,
    /// A person pressed "Try again now".
    Manual,
    /// A payment was about to go out with a token near its end.
    Payment,
    /// The page trying again after a refresh failed.
    Retry,
    /// The server itself, reading the invoice for a page it renders.
    Server,
    /// A caller that said no reason, or one not listed here.
    Unknown,
}

impl MintReason {
    /// Every reason, in label order.
    pub const ALL: [Self; 10] = [
        Self::First,
        Self::Timer,
        Self::Expired,
        Self::Tab,
        Self::WakeUp,
        Self::Manual,
        Self::Payment,
        Self::Retry,
        Self::Server,
        Self::Unknown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Timer => "timer",
            Self::Expired => "expired",
            Self::Tab => "tab",
            Self::WakeUp => "wake_up",
            Self::Manual => "manual",
            Self::Payment => "payment",
            Self::Retry => "retry",
            Self::Server => "server",
            Self::Unknown => "unknown",
        }
    }

    /// The reason a caller sent (its label), or [`Self::Unknown`]. Never
    /// [`Self::Server`]: only the server says that of itself.
    pub fn parse(sent: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .filter(|reason| *reason != Self::Server)
            .find(|reason| Some(reason.label()) == sent)
            .unwrap_or(Self::Unknown)
    }
}

/// Counts a mint, why it was asked for, and its duration.
pub(crate) fn mint(outcome: MintOutcome, reason: MintReason, took: std::time::Duration) {
    let outcome = outcome.label();
    metrics::counter!(MINTS, "outcome" => outcome, "reason" => reason.label()).increment(1);
    metrics::histogram!(MINT_DURATION, "outcome" => outcome).record(took.as_secs_f64());
}

/// Counts a log-in by its outcome (see [`LOGINS`]).
pub fn login(outcome: &'static str) {
    metrics::counter!(LOGINS, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_reason_is_one_of_the_few_labels_and_never_the_servers_own() {
        assert_eq!(MintReason::parse(Some("timer")), MintReason::Timer);
        assert_eq!(MintReason::parse(Some("wake_up")), MintReason::WakeUp);
        assert_eq!(MintReason::parse(Some("server")), MintReason::Unknown);
        assert_eq!(MintReason::parse(Some("Timer")), MintReason::Unknown);
        assert_eq!(MintReason::parse(Some("x\ny")), MintReason::Unknown);
        assert_eq!(MintReason::parse(None), MintReason::Unknown);
    }
}
