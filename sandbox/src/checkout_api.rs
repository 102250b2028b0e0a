//! The browser-facing checkout API. Every call is scoped by its checkout
//! token alone: the token names the customer and the invoice.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;

use crate::bearer::bearer_token;
use crate::error::ApiError;
use crate::token::{CheckoutClaims, TokenError};
use crate::Sandbox;

#[derive(Serialize)]
pub struct InvoiceView {
    id: String,
    customer_id: String,
    invoice_number: String,
    currency: String,
    sub_total: String,
    total: String,
    status: &'static str,
    created_at: String,
    due_date: String,
}

pub async fn invoice(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
) -> Result<Json<InvoiceView>, ApiError> {
    let claims = checkout_claims(&sandbox, &headers)?;
    let invoice = sandbox
        .store
        .invoice(&claims.invoice_id)
        .filter(|i| i.customer_id == claims.customer_id && i.partner_id == claims.partner_id)
        .ok_or(ApiError::NotFound("no such invoice"))?;
    Ok(Json(InvoiceView {
        id: invoice.id.clone(),
        customer_id: invoice.customer_id.clone(),
        invoice_number: invoice.invoice_number.clone(),
        currency: invoice.currency.clone(),
        sub_total: invoice.sub_total.clone(),
        total: invoice.total.clone(),
        status: invoice.status.as_str(),
        created_at: invoice.created_at.clone(),
        due_date: invoice.due_date.clone(),
    }))
}

fn checkout_claims(sandbox: &Sandbox, headers: &HeaderMap) -> Result<CheckoutClaims, ApiError> {
    let token = bearer_token(headers).ok_or(ApiError::InvalidToken)?;
    match sandbox.tokens.verify(token, sandbox.clock.now()) {
        Ok(claims) => Ok(claims),
        Err(TokenError::Expired) => {
            sandbox.stats.checkout_token_expired();
            Err(ApiError::TokenExpired)
        }
        Err(TokenError::Invalid) => Err(ApiError::InvalidToken),
    }
}
