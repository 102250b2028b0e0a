//! Invoice PDFs: the signed link `GET /checkout/v1/invoice/pdf-link` hands
//! out, the PDF it serves, and the links it does not.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{harness, harness_with, NOW};
use crate::{Config, ManualClock};

#[tokio::test]
async fn the_pdf_link_serves_a_pdf_until_it_expires_and_only_with_its_signature() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let link = h.get("/checkout/v1/invoice/pdf-link", &token).await;
    assert_eq!(link.status, StatusCode::OK);
    let url = link.body["url"].as_str().unwrap();
    // The request said `Host: sandbox.test`; the link names the sandbox's
    // own address instead (`Config::addr` here, nothing being bound).
    let path = url
        .strip_prefix("http://127.0.0.1:3030")
        .unwrap_or_else(|| panic!("not from the Host header: {url}"));
    assert!(path.starts_with("/files/invoices/inv_1001.pdf?"));

    let pdf = h
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()[header::CONTENT_TYPE], "application/pdf");
    let bytes = pdf.into_body().collect().await.unwrap().to_bytes();
    assert!(bytes.starts_with(b"%PDF-1.4"));
    assert!(String::from_utf8_lossy(&bytes).contains("INV-1001"));

    let forged = path.replace("inv_1001.pdf", "inv_2001.pdf");
    let reply = h
        .send(Request::get(forged).body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    h.clock.advance(Duration::from_secs(301));
    let reply = h
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pdf_link_names_the_configured_public_url_whatever_the_host_header_says() {
    let config = Config {
        public_url: Some("https://files.sandbox.example".into()),
        ..Config::unlimited_in_memory()
    };
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let link = h.get("/checkout/v1/invoice/pdf-link", &token).await;
    let url = link.body["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://files.sandbox.example/files/invoices/inv_1001.pdf?"),
        "{url}"
    );
}

#[tokio::test]
async fn a_pdf_link_stripped_of_its_signature_or_expiry_is_no_file_like_a_forged_one() {
    let h = harness().await;
    for path in [
        "/files/invoices/inv_1001.pdf",
        "/files/invoices/inv_1001.pdf?expires=1900000000",
        "/files/invoices/inv_1001.pdf?signature=AAAA",
        "/files/invoices/inv_1001.pdf?expires=soon&signature=AAAA",
    ] {
        let reply = h
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body["code"], "not_found", "{path}");
    }
}
