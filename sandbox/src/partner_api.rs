//! `GET /v1/invoices/{id}`: a partner's backend reads one of its invoices
//! with its OAuth token — whether it is paid, and by which payment. This is
//! how a merchant reconciles without waiting for (or after losing) an event.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use crate::callers::OAuthClient;
use crate::checkout_api::InvoiceView;
use crate::error::ApiError;
use crate::ids::well_formed;
use crate::records::StoredPayment;
use crate::state::Sandbox;

/// The invoice, and the payment that settled it (`null` while open).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SettlementView {
    #[serde(flatten)]
    invoice: InvoiceView,
    payment: Option<StoredPayment>,
}

#[utoipa::path(
    get,
    path = "/v1/invoices/{id}",
    tag = "partner",
    params(("id" = String, Path, min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")),
    responses(
        (status = 200, description = "The invoice and, once paid, its payment", body = SettlementView),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 404, description = "no such invoice of this partner", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("oauth_bearer" = [])),
)]
pub async fn invoice(
    State(sandbox): State<Sandbox>,
    OAuthClient(grant): OAuthClient,
    Path(id): Path<String>,
) -> Result<Json<SettlementView>, ApiError> {
    // Another partner's invoice and no invoice get one answer.
    let not_found = ApiError::NotFound("no such invoice");
    if !well_formed(&id) {
        return Err(not_found);
    }
    let invoice = sandbox
        .store
        .invoice(&id)
        .await?
        .filter(|i| i.partner_id == grant.partner_id)
        .ok_or(not_found)?;
    let payment = sandbox.store.payment_of(&id).await?;
    Ok(Json(SettlementView {
        invoice: invoice.into(),
        payment,
    }))
}
