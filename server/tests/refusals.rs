//! A mint after the vendor refused the page's token (`refused=<jti>`): the
//! server's reused copy is forgotten and the vendor asked again, and the
//! vendor's answers then reach the page as the refusals the SDK stops on —
//! here, a paid invoice.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine;
use support::*;
use tower::ServiceExt;

/// A checkout token's `jti`, read from its payload as the page reads it.
fn jti(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

async fn mint(site: &TestSite, cookie: &str, form: &str) -> (StatusCode, serde_json::Value) {
    let response = call(&site.app, post("/api/checkout/token", form, Some(cookie))).await;
    let status = response.status();
    let body = serde_json::from_str(&text(response).await).unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn a_refused_token_is_replaced_and_a_paid_invoice_is_told_as_paid() {
    let site = start().await;
    let alice = log_in(&site.app, ALICE, None).await;

    let (status, first) = mint(&site, &alice, "invoice_id=inv_1002").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let token = first["token"].as_str().unwrap().to_owned();
    // Not its id: the token is handed out again.
    let (_, again) = mint(&site, &alice, "invoice_id=inv_1002&refused=ct_other").await;
    assert_eq!(again["token"], first["token"]);

    // The invoice is paid at the vendor with that token.
    let paid = site
        .sandbox
        .router()
        .oneshot(
            Request::post("/checkout/v1/payments")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("idempotency-key", "refusals-test")
                .body(Body::from(
                    r#"{"payment_method_id":"pm_acme_visa","amount":"310.40"}"#,
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::CREATED);

    // Its id: the server asks the vendor, which will not mint for a paid
    // invoice — a refusal the page stops on, with its own code.
    let form = format!("invoice_id=inv_1002&refused={}", jti(&token));
    let (status, body) = mint(&site, &alice, &form).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "already_paid");
    assert_eq!(site.sandbox.stats().checkout_tokens_issued, 1);
}

#[tokio::test]
async fn a_refused_id_off_its_shape_is_refused_before_anything_else() {
    let site = start().await;
    let alice = log_in(&site.app, ALICE, None).await;
    // (An empty `refused=` is no report at all: absent.)
    for refused in ["a%0Ab", "ct%20x", &"x".repeat(65)] {
        let form = format!("invoice_id=inv_1001&refused={refused}");
        let (status, body) = mint(&site, &alice, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {body}");
        assert_eq!(body["code"], "bad_request");
    }
    assert_eq!(site.sandbox.stats().checkout_tokens_issued, 0);
}
