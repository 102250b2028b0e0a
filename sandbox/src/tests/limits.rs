//! Behaving like a real vendor under load and when told to misbehave: the
//! rate limit (fault matrix row T11), size caps, and injected faults.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;

use super::{basic, harness, harness_with, NOW};
use crate::{Config, ManualClock};

#[tokio::test]
async fn t11_more_requests_than_the_rate_limit_get_429_with_retry_after() {
    let h = harness_with(Config::in_memory(), ManualClock::starting_at(NOW)).await;
    let auth = basic("demo_client_id", "demo_client_secret");
    for _ in 0..5 {
        let reply = h
            .token_request(Some(&auth), "grant_type=client_credentials")
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let limited = h
        .token_request(Some(&auth), "grant_type=client_credentials")
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers[header::RETRY_AFTER], "1");
    // A second later the client may go on.
    h.clock.advance(Duration::from_secs(1));
    let oauth = h.oauth_token().await;
    // Checkout calls are limited per checkout token, apart from the client's quota.
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    let token = reply.body["token"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        assert_eq!(h.get_invoice(&token).await.status, StatusCode::OK);
    }
    let limited = h.get_invoice(&token).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["code"], "rate_limited");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));

    // Every refusal is counted, by whom it refused, so a drill can show
    // from outside that the vendor never had to refuse a merchant.
    let stats = h
        .send(Request::get("/sandbox/stats").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        stats.body["rate_limited"],
        json!({"total": 2, "by_client": {"demo_client_id": 1}, "checkout_tokens": 1})
    );
}

#[tokio::test]
async fn oversized_headers_and_bodies_are_refused_before_anything_else() {
    let h = harness().await;
    let huge = "x".repeat(crate::limits::MAX_HEADER_BYTES);
    let reply = h
        .send(
            Request::get("/checkout/v1/invoice")
                .header("x-padding", huge)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let oauth = h.oauth_token().await;
    let body =
        json!({"customer_id": "cus_acme", "invoice_id": "x".repeat(crate::limits::MAX_BODY_BYTES)});
    let reply = h.init(&oauth, body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn injected_faults_answer_503_and_refuse_oauth_tokens() {
    let mut config = Config::unlimited_in_memory();
    config.faults.error_rate = 1.0;
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let reply = h.token_request(None, "grant_type=client_credentials").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    // The sandbox's own controls stay up.
    let stats = h
        .send(Request::get("/sandbox/stats").body(Body::empty()).unwrap())
        .await;
    assert_eq!(stats.status, StatusCode::OK);

    let mut config = Config::unlimited_in_memory();
    config.faults.oauth_revoke_rate = 1.0;
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let oauth = h.oauth_token().await;
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "invalid_token");
}
