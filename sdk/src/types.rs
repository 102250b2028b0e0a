//! What the SDK takes and what the vendor's checkout API returns.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A checkout token and the lifetime it had left when the merchant's server
/// handed it over. The lifetime, not the token's `exp`, drives refresh: the
/// browser's clock may be minutes off the vendor's.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: Duration,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// `GET /checkout/v1/invoice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub customer_id: String,
    pub invoice_number: String,
    pub currency: String,
    /// Decimal strings, as the vendor sends them: no float rounding.
    pub sub_total: String,
    pub total: String,
    pub status: String,
    pub created_at: String,
    pub due_date: String,
}

/// `GET /checkout/v1/payment-methods`: one saved method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    /// `card` or `bank_account`.
    #[serde(rename = "type")]
    pub kind: String,
    pub brand: String,
    pub last4: String,
    #[serde(default)]
    pub exp_month: Option<u32>,
    #[serde(default)]
    pub exp_year: Option<u32>,
}

/// `GET /checkout/v1/invoice/pdf-link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdfLink {
    pub url: String,
}

/// `POST /checkout/v1/payments`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub invoice_id: String,
    pub payment_method_id: String,
    pub amount: String,
    pub currency: String,
    pub status: String,
    pub created_at: String,
}

/// One intended payment. Its idempotency key is made once, here, so every
/// retry of this request — by the SDK after a refresh, or by the page after
/// a network failure — is the same request to the vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub payment_method_id: String,
    /// A decimal string, the invoice's total.
    pub amount: String,
    idempotency_key: String,
}

impl PaymentRequest {
    pub fn new(payment_method_id: impl Into<String>, amount: impl Into<String>) -> Self {
        Self {
            payment_method_id: payment_method_id.into(),
            amount: amount.into(),
            idempotency_key: new_key(),
        }
    }

    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }
}

/// A random UUID from the browser's CSPRNG (`crypto.randomUUID()`).
fn new_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| {
            // Outside a browser (native tests): unique within the process.
            use std::sync::atomic::{AtomicU64, Ordering};
            static NEXT: AtomicU64 = AtomicU64::new(0);
            format!("local-{}", NEXT.fetch_add(1, Ordering::Relaxed))
        })
}
