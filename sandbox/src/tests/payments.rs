//! `POST /checkout/v1/payments`: paying the token's invoice once, whatever
//! the repeats (fault matrix rows T6, T9), and the requests it refuses.

use axum::http::{header, StatusCode};
use serde_json::json;

use super::{harness, pay_1001};

#[tokio::test]
async fn paying_marks_the_invoice_paid_and_is_counted() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h.pay(&token, Some("key-1"), pay_1001()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "succeeded");
    assert_eq!(reply.body["amount"], "1250.00");
    assert_eq!(reply.body["currency"], "USD");
    assert!(reply.body["id"].as_str().unwrap().starts_with("pay_"));
    assert_eq!(h.get_invoice(&token).await.body["status"], "paid");
    assert_eq!(h.sandbox.stats().payments, 1);
    // And it is listed, for drills that check from outside.
    let listed = h.get("/sandbox/payments", "").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body,
        json!([{ "id": reply.body["id"], "invoice_id": "inv_1001", "amount": "1250.00", "currency": "USD" }])
    );
}

#[tokio::test]
async fn t9_the_same_idempotency_key_twice_replays_the_first_answer() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let first = h.pay(&token, Some("key-1"), pay_1001()).await;
    let second = h.pay(&token, Some("key-1"), pay_1001()).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(h.sandbox.stats().payments, 1);
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 1);
}

#[tokio::test]
async fn t9_the_same_idempotency_key_concurrently_makes_one_payment() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    // Polled together on one task, the requests interleave at every await.
    let replies =
        futures::future::join_all((0..16).map(|_| h.pay(&token, Some("key-c"), pay_1001()))).await;
    let ids: std::collections::HashSet<_> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 1);
}

#[tokio::test]
async fn t9_paying_a_paid_invoice_again_with_a_new_key_is_a_conflict() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    assert_eq!(
        h.pay(&token, Some("key-1"), pay_1001()).await.status,
        StatusCode::CREATED
    );
    let again = h.pay(&token, Some("key-2"), pay_1001()).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // …and no new checkout token can be had for it.
    let oauth = h.oauth_token().await;
    let init = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(init.status, StatusCode::CONFLICT);
    assert_eq!(h.sandbox.stats().payments, 1);
}

#[tokio::test]
async fn a_key_reused_for_a_different_request_is_refused_not_replayed() {
    let h = harness().await;
    let acme = h.checkout_token("cus_acme", "inv_1001").await;
    let globex = h.checkout_token("cus_globex", "inv_2001").await;
    assert_eq!(
        h.pay(&acme, Some("shared"), pay_1001()).await.status,
        StatusCode::CREATED
    );
    let other = h
        .pay(
            &globex,
            Some("shared"),
            json!({"payment_method_id": "pm_globex_mc", "amount": "89.99"}),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.body["code"], "idempotency_key_reused");
    assert!(
        !other.body.to_string().contains("pay_"),
        "nothing of the first payment leaks"
    );
}

#[tokio::test]
async fn t6_another_customers_payment_method_is_insufficient_scope_like_an_unknown_one() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let foreign = h
        .pay(
            &token,
            Some("k1"),
            json!({"payment_method_id": "pm_globex_mc", "amount": "1250.00"}),
        )
        .await;
    let unknown = h
        .pay(
            &token,
            Some("k2"),
            json!({"payment_method_id": "pm_nope", "amount": "1250.00"}),
        )
        .await;
    for reply in [&foreign, &unknown] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.body["code"], "insufficient_scope");
        assert!(reply.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("insufficient_scope"));
    }
    assert_eq!(foreign.body, unknown.body);
    assert_eq!(h.get_invoice(&token).await.body["status"], "open");
}

#[tokio::test]
async fn a_payment_needs_a_key_a_method_and_the_exact_total() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    assert_eq!(
        h.pay(&token, None, pay_1001()).await.status,
        StatusCode::BAD_REQUEST
    );
    let reply = h.pay(&token, Some("k"), json!({"amount": "1250.00"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = h
        .pay(
            &token,
            Some("k"),
            json!({"payment_method_id": "pm_acme_visa", "amount": "1,250"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = h
        .pay(
            &token,
            Some("k"),
            json!({"payment_method_id": "pm_acme_visa", "amount": "1249.99"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["code"], "amount_mismatch");
    // "1250" is the same amount as "1250.00".
    let reply = h
        .pay(
            &token,
            Some("k"),
            json!({"payment_method_id": "pm_acme_visa", "amount": "1250"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
}
