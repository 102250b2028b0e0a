//! The keys that sign checkout tokens: published as a JWKS any JWT library
//! can verify with, and rotated without breaking the tokens already out.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use super::{harness, NOW};

#[tokio::test]
async fn a_checkout_token_verifies_against_the_published_jwks_with_a_plain_jwt_library() {
    use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h
        .send(
            Request::get("/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let jwks: JwkSet = serde_json::from_value(reply.body).unwrap();

    let kid = decode_header(&token).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["alternative-checkout"]);
    validation.set_issuer(&["alternative-sandbox"]);
    validation.validate_exp = false; // the harness clock is not the wall clock
    let claims = decode::<Value>(&token, &key, &validation).unwrap().claims;
    assert_eq!(claims["invoice_id"], "inv_1001");
    assert_eq!(claims["customer_id"], "cus_acme");
    assert_eq!(claims["partner_id"], "partner_demo");
    assert_eq!(claims["client_id"], "demo_client_id");
    assert_eq!(claims["exp"], NOW + 900);
}

#[tokio::test]
async fn after_key_rotation_old_tokens_still_work_and_both_keys_are_published() {
    let h = harness().await;
    let old = h.checkout_token("cus_acme", "inv_1001").await;
    // A forced rotation waits until the key has signed for a while (see controls).
    h.clock.advance(Duration::from_secs(
        crate::keys::FORCED_ROTATION_MIN_AGE_SECS,
    ));
    let rotated = h.control("/sandbox/rotate-keys").await;
    assert_eq!(rotated.status, StatusCode::NO_CONTENT);
    let new = h.checkout_token("cus_acme", "inv_1001").await;
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&old), kid(&new));
    assert_eq!(h.get_invoice(&old).await.status, StatusCode::OK);
    assert_eq!(h.get_invoice(&new).await.status, StatusCode::OK);
    let jwks = h
        .send(
            Request::get("/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
}
