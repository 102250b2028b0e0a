//! The browser-facing checkout API. Every call is scoped by its checkout
//! token alone: the token names the customer and the invoice.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;

use crate::bearer::bearer_token;
use crate::error::ApiError;
use crate::store::{Invoice, PaymentMethod};
use crate::token::{CheckoutClaims, TokenError};
use crate::Sandbox;

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
    headers: HeaderMap,
) -> Result<Json<InvoiceView>, ApiError> {
    let claims = checkout_claims(&sandbox, &headers)?;
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
    headers: HeaderMap,
) -> Result<Json<Vec<PaymentMethod>>, ApiError> {
    let claims = checkout_claims(&sandbox, &headers)?;
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

/// The claims of the request's checkout token, or why there are none.
pub(crate) fn checkout_claims(
    sandbox: &Sandbox,
    headers: &HeaderMap,
) -> Result<CheckoutClaims, ApiError> {
    let Some(token) = bearer_token(headers) else {
        sandbox.stats.invalid_token();
        return Err(ApiError::InvalidToken);
    };
    match sandbox.tokens.verify(token, sandbox.clock.now()) {
        Ok(claims) => {
            // The browser's calls are limited per checkout token: one
            // customer's page cannot use up the merchant's quota.
            sandbox.rate_limit(&format!("token:{}", claims.jti))?;
            Ok(claims)
        }
        Err(TokenError::Expired) => {
            sandbox.stats.checkout_token_expired();
            Err(ApiError::TokenExpired)
        }
        Err(TokenError::Invalid) => {
            sandbox.stats.invalid_token();
            Err(ApiError::InvalidToken)
        }
    }
}
