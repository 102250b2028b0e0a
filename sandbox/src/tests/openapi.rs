//! `GET /openapi.json`: the sandbox describes every route it serves.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::harness;

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let h = harness().await;
    let reply = h
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/oauth/token",
        "/v1/checkout-auth/init",
        "/checkout-auth/init",
        "/checkout/v1/invoice",
        "/checkout/v1/invoice/pdf-link",
        "/checkout/v1/payment-methods",
        "/checkout/v1/payments",
        "/files/invoices/{file}",
        "/.well-known/jwks.json",
        "/sandbox/stats",
        "/sandbox/payments",
        "/sandbox/rotate-keys",
        "/sandbox/reset",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let schemes = reply.body["components"]["securitySchemes"]
        .as_object()
        .unwrap();
    assert!(schemes.contains_key("checkout_bearer"));
    assert!(
        reply.body["components"]["schemas"]["InvoiceView"]["properties"]["invoice_number"]
            .is_object()
    );
}
