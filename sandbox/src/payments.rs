//! `POST /checkout/v1/payments`: pay the token's invoice with one of the
//! token's customer's saved payment methods.
//!
//! Idempotent by the `Idempotency-Key` header: the first request with a key
//! decides, and every repeat — sequential or concurrent, before or after a
//! restart — gets that first answer back (marked `Idempotent-Replayed: true`).
//! A key reused for a different request is refused rather than replayed.
//!
//! The payment, its idempotency record and its `payment.succeeded` event are
//! written in one transaction before the answer is sent (see `events`).

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::callers::Checkout;
use crate::checkout_api::scoped_invoice;
use crate::error::{json_body, ApiError};
use crate::events;
use crate::ids::random_id;
use crate::records::{IdempotencyRecord, IdempotentReply, Invoice, NewPayment};
use crate::state::Sandbox;
use crate::store::sha256;
use crate::token::CheckoutClaims;

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Long enough for a UUID or any client's own scheme, short enough to index.
const MAX_KEY_LEN: usize = 255;

/// One of the customer's saved methods, and the amount to pay.
// Both are required; `Option`s only for this API's own 400.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PayRequest {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 64)]
    payment_method_id: Option<String>,
    /// The invoice's exact total, as a decimal string: "12.5" and "12.50" are one amount.
    #[schema(value_type = String, required = true, pattern = "^[0-9]{1,12}(\\.[0-9]{1,2})?$")]
    amount: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    id: String,
    invoice_id: String,
    payment_method_id: String,
    amount: String,
    currency: String,
    status: &'static str,
    created_at: String,
}

#[utoipa::path(
    post,
    path = "/checkout/v1/payments",
    tag = "checkout",
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "1-255 visible ASCII characters; repeats get the first answer")),
    request_body = PayRequest,
    responses(
        (status = 201, description = "Paid (`Idempotent-Replayed: true` on a repeat)", body = PaymentView),
        (status = 400, description = "missing key, method or amount", body = crate::error::ApiErrorBody),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 403, description = "insufficient_scope: not this customer's payment method", body = crate::error::ApiErrorBody),
        (status = 404, description = "the token's invoice is gone", body = crate::error::ApiErrorBody),
        (status = 409, description = "the invoice is already paid", body = crate::error::ApiErrorBody),
        (status = 413, description = "payload_too_large: a body over 16 KiB", body = crate::error::ApiErrorBody),
        (status = 422, description = "amount_mismatch, idempotency_key_reused", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("checkout_bearer" = [])),
)]
pub async fn pay(
    State(sandbox): State<Sandbox>,
    Checkout(claims): Checkout,
    headers: HeaderMap,
    body: Result<Json<PayRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let (method_id, amount) = requested_payment(body)?;
    // The invoice is part of the request: the same key for another invoice is
    // another request, never a replay of this one's answer.
    let request_hash = sha256(format!("{}\n{method_id}\n{amount}", claims.invoice_id).as_bytes());

    // One payment decision at a time: a concurrent repeat waits here, then
    // finds the first one's answer.
    let _write = sandbox.store.write_lock().await;
    if let Some(prior) = sandbox
        .store
        .idempotent_reply(&claims.client_id, key)
        .await?
    {
        return replayed(prior, &request_hash);
    }
    let invoice = scoped_invoice(&sandbox, &claims).await?;
    if invoice.status == "paid" {
        return Err(ApiError::Conflict("the invoice is already paid"));
    }
    // Unknown and foreign payment methods get one answer: a token reveals
    // nothing about other customers' records.
    sandbox
        .store
        .payment_method(&method_id)
        .await?
        .filter(|m| m.customer_id == claims.customer_id)
        .ok_or(ApiError::InsufficientScope)?;
    if cents(&invoice.total) != Some(amount) {
        return Err(ApiError::Unprocessable(
            "amount_mismatch",
            "the amount must be the invoice's total",
        ));
    }
    let view = record(&sandbox, &claims, key, request_hash, &invoice, method_id).await?;
    tracing::info!(payment = %view.id, invoice_id = %view.invoice_id, jti = %claims.jti, "payment succeeded");
    Ok(json_reply(
        StatusCode::CREATED,
        serde_json::to_string(&view).expect("a payment serializes"),
    ))
}

/// The first answer to this key again, marked replayed — if the request is
/// the same one.
fn replayed(prior: IdempotentReply, request_hash: &[u8; 32]) -> Result<Response, ApiError> {
    if prior.request_hash != *request_hash {
        return Err(ApiError::Unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ));
    }
    let status = StatusCode::from_u16(prior.status).unwrap_or(StatusCode::CREATED);
    let mut response = json_reply(status, prior.response);
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
}

/// Records the payment with its idempotency record and its event, in one
/// transaction, and wakes the delivery; the payment as the API shows it.
async fn record(
    sandbox: &Sandbox,
    claims: &CheckoutClaims,
    key: &str,
    request_hash: [u8; 32],
    invoice: &Invoice,
    method_id: String,
) -> Result<PaymentView, ApiError> {
    let now = sandbox.clock.now();
    let view = PaymentView {
        id: random_id("pay_", 12),
        invoice_id: invoice.id.clone(),
        payment_method_id: method_id,
        amount: invoice.total.clone(),
        currency: invoice.currency.clone(),
        status: "succeeded",
        created_at: events::rfc3339(now),
    };
    let response = serde_json::to_string(&view).expect("a payment serializes");
    sandbox
        .store
        .record_payment(
            &NewPayment {
                id: &view.id,
                invoice_id: &view.invoice_id,
                payment_method_id: &view.payment_method_id,
                amount: &view.amount,
                currency: &view.currency,
                created_at: now,
            },
            &IdempotencyRecord {
                client_id: &claims.client_id,
                key,
                request_hash,
                status: StatusCode::CREATED.as_u16(),
                response: &response,
            },
            &events::payment_succeeded(invoice, &view, now),
            now + sandbox.config.webhook_retry_for.as_secs(),
        )
        .await?;
    sandbox.stats.payment_made();
    sandbox.stats.event_created();
    sandbox.events_due.notify_one();
    Ok(view)
}

fn json_reply(status: StatusCode, body: String) -> Response {
    let mut reply = (status, body).into_response();
    reply.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    reply
}

/// The body's payment method and amount (in cents), if both are well formed.
pub(crate) fn requested_payment(
    body: Result<Json<PayRequest>, JsonRejection>,
) -> Result<(String, i64), ApiError> {
    let body = json_body(body)?;
    let method_id = body
        .payment_method_id
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or(ApiError::InvalidRequest("payment_method_id is required"))?;
    let amount = body
        .amount
        .as_deref()
        .and_then(cents)
        .ok_or(ApiError::InvalidRequest(
            "amount must be a decimal string such as \"12.50\"",
        ))?;
    Ok((method_id, amount))
}

fn idempotency_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or(ApiError::InvalidRequest(
            "an Idempotency-Key header (1-255 visible ASCII characters) is required",
        ))
}

/// A decimal amount with at most two decimals, in cents: "12.5" and "12.50"
/// are the same amount; "1e3", "-1", "12.345" and "" are not amounts.
fn cents(amount: &str) -> Option<i64> {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (amount.contains('.') && !digits(fraction)) || fraction.len() > 2 {
        return None;
    }
    let fraction = format!("{fraction:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + fraction.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::cents;

    #[test]
    fn amounts_are_read_exactly() {
        assert_eq!(cents("1250.00"), Some(125_000));
        assert_eq!(cents("310.4"), Some(31_040));
        assert_eq!(cents("89.99"), Some(8_999));
        assert_eq!(cents("7"), Some(700));
        for bad in [
            "", ".", "1.", ".5", "-1", "1e3", "12.345", "1,00", " 1", "1 ", "0x10",
        ] {
            assert_eq!(cents(bad), None, "{bad:?}");
        }
    }
}
