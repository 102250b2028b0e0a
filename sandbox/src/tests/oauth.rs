//! `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4), its
//! one answer for every failed client authentication, and its refusals.

use axum::http::{header, StatusCode};

use super::{basic, harness};

#[tokio::test]
async fn client_credentials_grant_issues_an_uncacheable_bearer_token() {
    let h = harness().await;
    let reply = h
        .token_request(
            Some(&basic("demo_client_id", "demo_client_secret")),
            "grant_type=client_credentials",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3600);
    assert!(reply.body["access_token"]
        .as_str()
        .unwrap()
        .starts_with("sbx_oat_"));
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(h.sandbox.stats().oauth_tokens_issued, 1);
}

#[tokio::test]
async fn client_credentials_in_the_form_body_are_accepted() {
    let h = harness().await;
    let reply = h
        .token_request(
            None,
            "grant_type=client_credentials&client_id=demo_client_id&client_secret=demo_client_secret",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn t10_wrong_secret_unknown_client_and_missing_basic_get_one_invalid_client_answer() {
    let h = harness().await;
    let wrong_secret = h
        .token_request(
            Some(&basic("demo_client_id", "nope")),
            "grant_type=client_credentials",
        )
        .await;
    let unknown = h
        .token_request(
            Some(&basic("who", "demo_client_secret")),
            "grant_type=client_credentials",
        )
        .await;
    let missing = h.token_request(None, "grant_type=client_credentials").await;
    for reply in [&wrong_secret, &unknown, &missing] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body["error"], "invalid_client");
        assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    }
    assert_eq!(wrong_secret.body, unknown.body);
    assert_eq!(h.sandbox.stats().oauth_tokens_issued, 0);
}

#[tokio::test]
async fn t10_a_grant_other_than_client_credentials_is_unsupported() {
    let h = harness().await;
    let auth = basic("demo_client_id", "demo_client_secret");
    let reply = h.token_request(Some(&auth), "grant_type=password").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"], "unsupported_grant_type");
    let reply = h.token_request(Some(&auth), "").await;
    assert_eq!(reply.body["error"], "invalid_request");
    let reply = h
        .token_request(
            Some(&auth),
            "grant_type=client_credentials&grant_type=client_credentials",
        )
        .await;
    assert_eq!(reply.body["error"], "invalid_request");
}
