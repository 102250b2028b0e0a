//! `POST /v1/checkout-auth/init`: minting checkout tokens with an OAuth
//! access token, and what it refuses.

use std::time::Duration;

use axum::http::{header, StatusCode};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::{harness, harness_with, NOW};
use crate::{Config, ManualClock};

#[tokio::test]
async fn init_reports_expiry_as_rfc3339_lifetime_from_now() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1002"}),
        )
        .await;
    let expires_at = reply.body["expires_at"].as_str().unwrap();
    let parsed =
        time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert_eq!(parsed.unix_timestamp() as u64, NOW + 900);
}

#[tokio::test]
async fn a_skewed_clock_shows_in_expires_at_and_in_every_answers_date() {
    let config = Config {
        clock_offset_secs: -300,
        ..Config::unlimited_in_memory()
    };
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let oauth = h.oauth_token().await;
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1002"}),
        )
        .await;
    let expires_at =
        time::OffsetDateTime::parse(reply.body["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(expires_at.unix_timestamp() as u64, NOW - 300 + 900);
    let date = reply.headers[header::DATE].to_str().unwrap();
    let date = httpdate::parse_http_date(date).unwrap();
    assert_eq!(
        date.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        NOW - 300
    );
}

#[tokio::test]
async fn init_refuses_a_missing_invoice_id_a_foreign_invoice_and_no_token() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let reply = h.init(&oauth, json!({"customer_id": "cus_acme"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["message"], "invalid invoice id");

    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_2001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let reply = h
        .init(
            "sbx_oat_forged",
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "invalid_token");
    assert!(reply.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
}

#[tokio::test]
async fn an_expired_oauth_token_cannot_mint() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    h.clock.advance(Duration::from_secs(3600));
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "access_token_expired");
}
