//! `POST /v1/checkout-auth/init`: a partner's backend, holding an OAuth access
//! token, asks for a checkout token scoped to one customer and one invoice.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::callers::OAuthClient;
use crate::error::{json_body, ApiError};
use crate::ids::random_id;
use crate::state::Sandbox;
use crate::token::{CheckoutClaims, AUDIENCE, ISSUER};

/// The customer and one of its invoices.
// Both are required; `Option`s only so that a missing one gets this API's own
// 400 rather than the JSON extractor's.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct InitRequest {
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    customer_id: Option<String>,
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    invoice_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InitResponse {
    token: String,
    /// RFC 3339, UTC.
    expires_at: String,
}

/// A checkout token (EdDSA JWT, `typ: checkout+jwt`) scoped to one customer
/// and one invoice of the calling client's partner.
#[utoipa::path(
    post,
    path = "/v1/checkout-auth/init",
    tag = "checkout-auth",
    request_body = InitRequest,
    responses(
        (status = 200, body = InitResponse),
        (status = 400, description = "invalid customer id / invalid invoice id", body = crate::error::ApiErrorBody),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 404, description = "unknown, or another partner's", body = crate::error::ApiErrorBody),
        (status = 413, description = "payload_too_large: a body over 16 KiB", body = crate::error::ApiErrorBody),
        (status = 409, description = "the invoice is already paid", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("oauth_bearer" = [])),
)]
pub async fn init(
    State(sandbox): State<Sandbox>,
    OAuthClient(grant): OAuthClient,
    body: Result<Json<InitRequest>, JsonRejection>,
) -> Result<Json<InitResponse>, ApiError> {
    let now = sandbox.clock.now();
    let (customer_id, invoice_id) = requested_ids(body)?;

    // One answer for "no such thing" and "not yours": a partner learns nothing
    // about other partners' records.
    sandbox
        .store
        .customer(&customer_id)
        .await?
        .filter(|c| c.partner_id == grant.partner_id)
        .ok_or(ApiError::NotFound("no such customer"))?;
    let invoice = sandbox
        .store
        .invoice(&invoice_id)
        .await?
        .filter(|i| i.partner_id == grant.partner_id && i.customer_id == customer_id)
        .ok_or(ApiError::NotFound("no such invoice for this customer"))?;
    if invoice.status == "paid" {
        return Err(ApiError::Conflict("the invoice is already paid"));
    }

    let exp = now + sandbox.config.checkout_token_ttl.as_secs();
    let claims = CheckoutClaims {
        partner_id: grant.partner_id,
        client_id: grant.client_id,
        customer_id,
        invoice_id,
        exp,
        iat: now,
        jti: random_id("ct_", 16),
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
    };
    sandbox.rotate_keys_if_due(now, false).await?;
    let token = sandbox.tokens.sign(&claims);
    sandbox.stats.checkout_token_issued();
    tracing::info!(jti = %claims.jti, invoice_id = %claims.invoice_id, "issued a checkout token");

    let expires_at = OffsetDateTime::from_unix_timestamp(exp as i64)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .expect("a lifetime in seconds from now is a valid date");
    Ok(Json(InitResponse { token, expires_at }))
}

/// The body's customer and invoice ids, if both are well formed.
pub(crate) fn requested_ids(
    body: Result<Json<InitRequest>, JsonRejection>,
) -> Result<(String, String), ApiError> {
    let body = json_body(body)?;
    let customer_id =
        valid_id(body.customer_id).ok_or(ApiError::InvalidRequest("invalid customer id"))?;
    let invoice_id =
        valid_id(body.invoice_id).ok_or(ApiError::InvalidRequest("invalid invoice id"))?;
    Ok((customer_id, invoice_id))
}

/// The id, if it is of the shape ids have ([`crate::ids::well_formed`]).
fn valid_id(id: Option<String>) -> Option<String> {
    id.filter(|id| crate::ids::well_formed(id))
}
