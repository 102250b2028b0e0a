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
