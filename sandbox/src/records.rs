//! The records the sandbox keeps, as its handlers and its seed file see them:
//! API clients, customers, invoices, payment methods, payments, idempotency
//! keys and OAuth grants. Plain data, apart from the store that keeps them,
//! so that naming a record does not mean depending on the store (signing
//! keys are `keys::StoredKey`, beside the code that uses them).

use crate::clock::UnixSeconds;

/// A client that authenticated with its id and secret.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub client_id: String,
    pub partner_id: String,
}

/// Stored as the seed file spells it (`seed::Seed` reads these directly).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    pub id: String,
    pub partner_id: String,
    pub customer_id: String,
    pub invoice_number: String,
    pub currency: String,
    pub sub_total: String,
    pub total: String,
    pub status: String,
    pub created_at: String,
    pub due_date: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Customer {
    pub partner_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentMethod {
    pub id: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub customer_id: String,
    /// `card` or `bank_account`.
    #[serde(rename = "type")]
    pub kind: String,
    pub brand: String,
    pub last4: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp_month: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp_year: Option<i64>,
}

/// What an OAuth access token stands for.
#[derive(Debug, Clone)]
pub struct OAuthGrant {
    pub client_id: String,
    pub partner_id: String,
    pub expires_at: UnixSeconds,
}

/// A stored first answer to an idempotent request.
#[derive(Debug, Clone)]
pub struct IdempotentReply {
    pub request_hash: [u8; 32],
    pub status: u16,
    pub response: String,
}

/// A payment about to be recorded.
pub struct NewPayment<'a> {
    pub id: &'a str,
    pub invoice_id: &'a str,
    pub payment_method_id: &'a str,
    pub amount: &'a str,
    pub currency: &'a str,
    pub created_at: UnixSeconds,
}

/// An `Idempotency-Key` and the first answer to keep for it.
pub struct IdempotencyRecord<'a> {
    pub client_id: &'a str,
    pub key: &'a str,
    pub request_hash: [u8; 32],
    pub status: u16,
    pub response: &'a str,
}

/// An event to store with the change it reports.
pub struct NewEvent {
    pub id: String,
    pub partner_id: String,
    pub kind: &'static str,
    /// The exact JSON that is delivered and signed.
    pub body: String,
    pub created_at: UnixSeconds,
}

/// One stored event and where its delivery stands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub body: String,
    pub created_at: i64,
    pub status: String,
    pub attempts: i64,
    pub deliver_until: i64,
    pub last_error: Option<String>,
}

/// One payment as the sandbox holds it.
#[derive(
    Debug,
    Clone,
    serde::Serialize,
    serde::Deserialize,
    PartialEq,
    Eq,
    sqlx::FromRow,
    utoipa::ToSchema,
)]
pub struct StoredPayment {
    pub id: String,
    pub invoice_id: String,
    pub amount: String,
    pub currency: String,
}
