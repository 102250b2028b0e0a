//! The controls that end tokens and move time: a real token refused the way
//! the vendor would refuse it, on a test harness's word.

use axum::http::StatusCode;
use serde_json::json;

use super::{harness, NOW};
use crate::token::LEEWAY_SECS;

/// The `jti` claim of a checkout token, read without verifying (the test
/// just got it from the sandbox).
fn jti(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired_and_a_revoked_one_as_invalid_others_unharmed() {
    let h = harness().await;
    let first = h.checkout_token("cus_acme", "inv_1001").await;
    let second = h.checkout_token("cus_acme", "inv_1001").await;
    let third = h.checkout_token("cus_acme", "inv_1001").await;

    let expired = h
        .control(&format!("/sandbox/tokens/{}/expire", jti(&first)))
        .await;
    assert_eq!(expired.status, StatusCode::NO_CONTENT);
    let revoked = h
        .control(&format!("/sandbox/tokens/{}/revoke", jti(&second)))
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);

    let reply = h.get_invoice(&first).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "access_token_expired");
    let reply = h.get_invoice(&second).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "invalid_token");
    assert_eq!(h.get_invoice(&third).await.status, StatusCode::OK);

    let stats = h.sandbox.stats();
    assert_eq!(stats.unauthorized.access_token_expired, 1);
    assert_eq!(stats.unauthorized.invalid_token, 1);

    // A reset forgets what was ended, with the rest of the run's state.
    assert_eq!(
        h.control("/sandbox/reset").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(h.get_invoice(&first).await.status, StatusCode::OK);

    for bad in ["a%20b", "x".repeat(65).as_str(), "ct_%C3%A9"] {
        let reply = h.control(&format!("/sandbox/tokens/{bad}/expire")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn moving_the_clock_expires_tokens_as_time_would_and_stamps_the_new_date() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let ttl = 900;

    let moved = h
        .control_with("/sandbox/clock", json!({"advance_secs": ttl}).to_string())
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["now"], NOW + ttl);
    assert_eq!(moved.body["advanced_secs"], ttl);
    // Still inside the verifier's leeway (RFC 7519 §4.1.4 allows some).
    assert_eq!(h.get_invoice(&token).await.status, StatusCode::OK);

    let moved = h
        .control_with(
            "/sandbox/clock",
            json!({"advance_secs": LEEWAY_SECS as f64 + 1.0}).to_string(),
        )
        .await;
    assert_eq!(moved.body["advanced_secs"], ttl + LEEWAY_SECS + 1);
    let reply = h.get_invoice(&token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "access_token_expired");
    let date = httpdate::parse_http_date(reply.headers["date"].to_str().unwrap()).unwrap();
    let date = date
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(date, NOW + ttl + LEEWAY_SECS + 1);

    // A new token lives its full lifetime from the new "now".
    let fresh = h.checkout_token("cus_acme", "inv_1001").await;
    assert_eq!(h.get_invoice(&fresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_clock_refuses_anything_but_a_forward_move_of_whole_seconds_within_thirty_days() {
    let h = harness().await;
    for body in [
        json!({}),
        json!({"advance_secs": -1}),
        json!({"advance_secs": 1.5}),
        json!({"advance_secs": "10"}),
        json!({"advance_secs": 2_592_001}),
        json!([]),
    ] {
        let reply = h.control_with("/sandbox/clock", body.to_string()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body["code"], "invalid_request", "{body}");
    }
    let reply = h
        .control_with("/sandbox/clock", json!({"advance_secs": 0}).to_string())
        .await;
    assert_eq!(reply.body["advanced_secs"], 0, "nothing moved");
}
