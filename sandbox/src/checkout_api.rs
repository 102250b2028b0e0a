//! The browser-facing checkout API. Every call is scoped by its checkout
//! token alone (the `callers::Checkout` extractor): the token names the
//! customer and the invoice.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::callers::Checkout;
use crate::error::ApiError;
use crate::records::{Invoice, PaymentMethod};
use crate::state::Sandbox;
use crate::token::CheckoutClaims;

/// `GET /checkout/v1/invoice`'s body (fields as in the vendor's OpenAPI).
#[derive(Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    id: String,
    customer_id: String,
    invoice_number: String,
    currency: String,
    sub_total: String,
    total: String,
    status: String,
    created_at: String,
    due_date: String,
}

impl From<Invoice> for InvoiceView {
    fn from(i: Invoice) -> Self {
        Self {
            id: i.id,
            customer_id: i.customer_id,
            invoice_number: i.invoice_number,
            currency: i.currency,
            sub_total: i.sub_total,
            total: i.total,
            status: i.status,
            created_at: i.created_at,
            due_date: i.due_date,
        }
    }
}

#[utoipa::path(
    get,
    path = "/checkout/v1/invoice",
    tag = "checkout",
    responses(
        (status = 200, description = "The invoice the token is scoped to", body = InvoiceView),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 404, description = "the token's invoice is gone", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("checkout_bearer" = [])),
)]
pub async fn invoice(
    State(sandbox): State<Sandbox>,
    Checkout(claims): Checkout,
) -> Result<Json<InvoiceView>, ApiError> {
    Ok(Json(scoped_invoice(&sandbox, &claims).await?.into()))
}

/// `GET /checkout/v1/payment-methods`: the token's customer's saved methods.
#[utoipa::path(
    get,
    path = "/checkout/v1/payment-methods",
    tag = "checkout",
    responses(
        (status = 200, body = Vec<PaymentMethod>),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("checkout_bearer" = [])),
)]
pub async fn payment_methods(
    State(sandbox): State<Sandbox>,
    Checkout(claims): Checkout,
) -> Result<Json<Vec<PaymentMethod>>, ApiError> {
    Ok(Json(
        sandbox.store.payment_methods(&claims.customer_id).await?,
    ))
}

/// The invoice a token is scoped to, as long as it still belongs to the
/// token's customer and partner.
pub(crate) async fn scoped_invoice(
    sandbox: &Sandbox,
    claims: &CheckoutClaims,
) -> Result<Invoice, ApiError> {
    sandbox
        .store
        .invoice(&claims.invoice_id)
        .await?
        .filter(|i| i.customer_id == claims.customer_id && i.partner_id == claims.partner_id)
        .ok_or(ApiError::NotFound("no such invoice"))
}
