//! The checkout API as a checkout token's holder meets it: the invoice and
//! payment methods it is scoped to, and the tokens it refuses (expired, of
//! the wrong kind, or not in the `Authorization` header).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use super::harness;

#[tokio::test]
async fn a_checkout_token_reads_exactly_its_invoice() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h.get_invoice(&token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["invoice_number"], "INV-1001");
    assert_eq!(reply.body["total"], "1250.00");
    assert_eq!(reply.body["currency"], "USD");
    assert_eq!(reply.body["status"], "open");
    assert_eq!(h.sandbox.stats().checkout_tokens_issued, 1);
}

#[tokio::test]
async fn t1_an_expired_checkout_token_gets_access_token_expired_after_the_leeway() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    h.clock
        .advance(Duration::from_secs(900 + crate::token::LEEWAY_SECS));
    assert_eq!(h.get_invoice(&token).await.status, StatusCode::OK);
    h.clock.advance(Duration::from_secs(1));
    let reply = h.get_invoice(&token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "access_token_expired");
    assert_eq!(h.sandbox.stats().unauthorized.access_token_expired, 1);
}

#[tokio::test]
async fn t8_oauth_and_checkout_tokens_cannot_stand_in_for_each_other() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let checkout = h.checkout_token("cus_acme", "inv_1001").await;
    assert_eq!(h.get_invoice(&oauth).await.body["code"], "invalid_token");
    let reply = h
        .init(
            &checkout,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.body["code"], "invalid_token");
}

#[tokio::test]
async fn a_token_in_the_query_string_is_ignored_rfc6750_2_3() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h
        .send(
            Request::get(format!("/checkout/v1/invoice?access_token={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn payment_methods_are_the_token_customers_own() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h.get("/checkout/v1/payment-methods", &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let ids: Vec<&str> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pm_acme_bank", "pm_acme_visa"]);
    assert_eq!(reply.body[1]["type"], "card");
    assert_eq!(reply.body[1]["last4"], "4242");
    assert!(reply.body[1].get("customer_id").is_none());
}
