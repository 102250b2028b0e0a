//! Server functions, the page's only way into the merchant backend. Each is
//! a public HTTP endpoint: it trusts nothing the request says beyond its
//! arguments, and answers with [`CheckoutError`], never an upstream error.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A checkout token for the browser, with the lifetime it has left and the
/// vendor API it is valid for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub token: String,
    /// Seconds left, counted on the server: the browser's clock may be off.
    pub expires_in: u64,
    pub api_url: String,
}

impl std::fmt::Debug for CheckoutSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutSession")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// What the page can be told. Each variant has a stable code and a sentence
/// for a person; nothing from upstream is carried across.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum CheckoutError {
    #[error("We could not find this invoice.")]
    InvoiceNotFound,
    #[error("This invoice cannot be paid online right now.")]
    NotPayable,
    #[error("The payment provider is not responding. Please try again in a moment.")]
    VendorUnavailable,
    #[error("We are busy right now. Please try again in {retry_after_secs} seconds.")]
    Busy { retry_after_secs: u64 },
    #[error("Something went wrong on our side. Please try again later.")]
    Internal,
    /// The server could not read the request's arguments.
    #[error("The request was malformed: {0}")]
    BadRequest(String),
    /// The browser got no usable answer from the server.
    #[error("Could not reach the shop: {0}")]
    Transport(String),
}

impl CheckoutError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvoiceNotFound => "invoice_not_found",
            Self::NotPayable => "not_payable",
            Self::VendorUnavailable => "vendor_unavailable",
            Self::Busy { .. } => "busy",
            Self::Internal => "internal",
            Self::BadRequest(_) => "bad_request",
            Self::Transport(_) => "transport",
        }
    }
}

impl FromServerFnError for CheckoutError {
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

/// Mints a checkout token for `invoice_id`, scoped to the customer the
/// merchant's records say owes it. `POST /api/checkout/token`, form-encoded,
/// so `curl -d invoice_id=inv_1001` works.
#[server(prefix = "/api", endpoint = "checkout/token")]
pub async fn mint_checkout_token(invoice_id: String) -> Result<CheckoutSession, CheckoutError> {
    ssr::mint(&invoice_id).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use leptos::prelude::*;
    use leptos::server_fn::error::ServerFnErrorErr;
    use leptos_axum::ResponseOptions;
    use merchant::{CheckoutService, MintError};

    use super::{CheckoutError, CheckoutSession};

    pub fn framework_error(error: ServerFnErrorErr) -> CheckoutError {
        let answer = match error {
            ServerFnErrorErr::Args(why)
            | ServerFnErrorErr::MissingArg(why)
            | ServerFnErrorErr::Deserialization(why) => CheckoutError::BadRequest(why),
            other => {
                tracing::error!(error = %other, "server function failed");
                CheckoutError::Internal
            }
        };
        set_status(&answer);
        answer
    }

    pub async fn mint(invoice_id: &str) -> Result<CheckoutSession, CheckoutError> {
        let service = use_context::<Arc<CheckoutService>>().ok_or(CheckoutError::Internal)?;
        let result = service.mint(invoice_id).await.map_err(|error| {
            let answer = match &error {
                MintError::UnknownInvoice => CheckoutError::InvoiceNotFound,
                MintError::Refused(_) => CheckoutError::NotPayable,
                MintError::Vendor(_) => CheckoutError::VendorUnavailable,
                MintError::Busy(after) => CheckoutError::Busy {
                    retry_after_secs: after.as_secs().max(1),
                },
            };
            tracing::warn!(%invoice_id, %error, "could not mint a checkout token");
            answer
        });
        if let Err(error) = &result {
            set_status(error);
        }
        result.map(|minted| CheckoutSession {
            // The one place the token is read: to hand it to its customer's browser.
            token: minted.token.expose().to_owned(),
            expires_in: minted.expires_in.as_secs(),
            api_url: minted.api_url,
        })
    }

    fn set_status(error: &CheckoutError) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status(error));
            if let CheckoutError::Busy { retry_after_secs } = error {
                response.insert_header(http::header::RETRY_AFTER, (*retry_after_secs).into());
            }
        }
    }

    fn status(error: &CheckoutError) -> http::StatusCode {
        use http::StatusCode;
        match error {
            CheckoutError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CheckoutError::InvoiceNotFound => StatusCode::NOT_FOUND,
            CheckoutError::NotPayable => StatusCode::CONFLICT,
            CheckoutError::VendorUnavailable => StatusCode::BAD_GATEWAY,
            CheckoutError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            CheckoutError::Internal | CheckoutError::Transport(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_code_is_the_documented_code() {
        for error in [
            CheckoutError::InvoiceNotFound,
            CheckoutError::NotPayable,
            CheckoutError::VendorUnavailable,
            CheckoutError::Busy {
                retry_after_secs: 2,
            },
            CheckoutError::Internal,
            CheckoutError::BadRequest("missing field".into()),
            CheckoutError::Transport("offline".into()),
        ] {
            let wire = serde_json::to_value(&error).unwrap();
            assert_eq!(wire["code"], error.code());
            assert_eq!(
                serde_json::from_value::<CheckoutError>(wire).unwrap(),
                error
            );
        }
    }

    #[test]
    fn a_session_never_prints_its_token() {
        let session = CheckoutSession {
            token: "eyJhbGciOi.secret.sig".into(),
            expires_in: 900,
            api_url: "http://127.0.0.1:3030".into(),
        };
        assert!(!format!("{session:?}").contains("secret"));
    }
}
