//! `GET /openapi.json`: the sandbox describes every route it serves.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

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

/// The rule no per-parameter schema can state, written in by `openapi.rs`:
/// a tester must never send `after` without `order=oldest_first` as valid.
#[tokio::test]
async fn the_event_list_documents_that_a_cursor_needs_oldest_first() {
    let h = harness().await;
    let doc = h
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await
        .body;
    let parameter = &doc["paths"]["/v1/events"]["get"]["parameters"][0];
    assert_eq!(
        (&parameter["in"], &parameter["style"], &parameter["explode"]),
        (&json!("query"), &json!("form"), &json!(true))
    );
    assert_eq!(
        parameter["schema"]["$ref"],
        "#/components/schemas/EventListQuery"
    );
    let query = &doc["components"]["schemas"]["EventListQuery"];
    let names: Vec<&String> = query["properties"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["after", "limit", "order", "status"]);
    assert_eq!(query["required"], Value::Null);
    assert_eq!(query["additionalProperties"], false);
    assert_eq!(
        (
            &query["properties"]["limit"]["minimum"],
            &query["properties"]["limit"]["maximum"]
        ),
        (&json!(1), &json!(100))
    );
    assert_eq!(
        query["dependentSchemas"],
        json!({"after": {"required": ["order"], "properties": {"order": {"const": "oldest_first"}}}})
    );
}
