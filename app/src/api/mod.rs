//! Server functions, the page's only way into the merchant backend. Each is
//! a public HTTP endpoint: it trusts nothing the request says beyond its
//! arguments (the user comes from the session cookie, never from a field),
//! and answers with [`AppError`], never an upstream error.

mod auth;
mod checkout;
#[cfg(feature = "ssr")]
mod ssr;

pub use auth::{
    my_invoices, return_path, whoami, InvoiceSummary, Login, Logout, MyInvoices, PaymentView,
    UserView, Whoami,
};
#[cfg(feature = "ssr")]
pub use ssr::ClientAddress;
// The server functions' argument structs (`MintCheckoutToken` …) are public
// for the fuzz target that decodes their form bodies (app/fuzz).
pub use checkout::{
    invoice_summary, mint_checkout_token, mint_reason, reconcile_payment, vendor_api_url,
    CheckoutTokenView, InvoiceView, MintCheckoutToken, ReconcilePayment,
};

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What the page can be told: each variant has a stable code and a sentence
/// for a person; nothing from upstream is carried across.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum AppError {
    #[error("Please log in to continue.")]
    NotLoggedIn,
    #[error("That email and password do not match an account.")]
    InvalidCredentials,
    #[error("We could not find this invoice.")]
    InvoiceNotFound,
    #[error("This invoice cannot be paid online right now.")]
    NotPayable,
    #[error("This invoice is paid already.")]
    AlreadyPaid,
    /// A payment was taken that is not the invoice's amount or currency:
    /// nobody pays it again until the merchant has looked.
    #[error("A payment for this invoice does not match its amount. We are looking into it: please do not pay again.")]
    PaymentMismatch,
    #[error("The payment provider is not responding. Please try again in a moment.")]
    VendorUnavailable,
    /// The merchant's own database could not be reached: nothing was
    /// changed, so the same request can simply be sent again.
    #[error(
        "We cannot reach our records right now. Nothing was lost: please try again in a moment."
    )]
    StorageUnavailable,
    #[error("We are busy right now. Please try again in {retry_after_secs} seconds.")]
    Busy { retry_after_secs: u64 },
    #[error("Too many attempts. Please wait {retry_after_secs} seconds and try again.")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("Something went wrong on our side. Please try again later.")]
    Internal,
    /// The server could not read the request's arguments.
    #[error("The request was malformed: {0}")]
    BadRequest(String),
    /// The browser got no usable answer from the server.
    #[error("Could not reach the shop: {0}")]
    Transport(String),
}

impl AppError {
    /// Whether trying again later may succeed: the vendor or the merchant's
    /// server down or busy, a limit that lifts, or the network between (the
    /// same word as `alternative_client::VendorError::is_transient`). The
    /// rest (not logged in, not yours, not payable) stand until someone acts.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::VendorUnavailable
                | Self::StorageUnavailable
                | Self::Busy { .. }
                | Self::TooManyRequests { .. }
                | Self::Internal
                | Self::Transport(_)
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotLoggedIn => "not_logged_in",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvoiceNotFound => "invoice_not_found",
            Self::NotPayable => "not_payable",
            Self::AlreadyPaid => "already_paid",
            Self::PaymentMismatch => "payment_mismatch",
            Self::VendorUnavailable => "vendor_unavailable",
            Self::StorageUnavailable => "storage_unavailable",
            Self::Busy { .. } => "busy",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Internal => "internal",
            Self::BadRequest(_) => "bad_request",
            Self::Transport(_) => "transport",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Errors Leptos raises itself, before or after our code runs. On the
    /// server they are about the request; in the browser, about the network.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        return ssr::framework_error(value);
        #[cfg(not(feature = "ssr"))]
        Self::Transport(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_code_is_the_documented_code() {
        for error in [
            AppError::NotLoggedIn,
            AppError::InvalidCredentials,
            AppError::InvoiceNotFound,
            AppError::NotPayable,
            AppError::AlreadyPaid,
            AppError::PaymentMismatch,
            AppError::VendorUnavailable,
            AppError::StorageUnavailable,
            AppError::Busy {
                retry_after_secs: 2,
            },
            AppError::TooManyRequests {
                retry_after_secs: 3,
            },
            AppError::Internal,
            AppError::BadRequest("missing field".into()),
            AppError::Transport("offline".into()),
        ] {
            let wire = serde_json::to_value(&error).unwrap();
            assert_eq!(wire["code"], error.code());
            assert_eq!(serde_json::from_value::<AppError>(wire).unwrap(), error);
        }
    }

    #[test]
    fn only_paths_on_this_site_are_returned_to_after_log_in() {
        for fine in ["/", "/checkout/inv_1001", "/a-b/c_d"] {
            assert_eq!(return_path(fine), Some(fine));
        }
        for elsewhere in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "/checkout?x=1",
            "/%2F%2Fevil",
            "javascript:alert(1)",
            "checkout",
            "",
            "/a\nSet-Cookie:x",
        ] {
            assert_eq!(return_path(elsewhere), None, "{elsewhere}");
        }
        assert_eq!(return_path(&format!("/{}", "a".repeat(200))), None);
    }

    #[test]
    fn a_session_never_prints_its_token() {
        let session = CheckoutTokenView {
            token: "eyJhbGciOi.secret.sig".into(),
            expires_in: 900,
            api_url: "http://127.0.0.1:3030".into(),
        };
        assert!(!format!("{session:?}").contains("secret"));
    }
}
