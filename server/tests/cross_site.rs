//! The cross-site POST check by Fetch Metadata (`Sec-Fetch-Site`,
//! https://w3c.github.io/webappsec-fetch-metadata/), through the whole
//! router: a browser that sends no `Origin` still says where the request
//! came from, and only the site's own pages may change anything; the
//! vendor's webhook endpoint is outside the check.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use alternative_client::webhook::sign_for_tests;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use support::*;

/// `request` as a browser sends it, with `Sec-Fetch-Site: site` and no `Origin`.
fn fetched_from(site: &str, mut request: Request<Body>) -> Request<Body> {
    request
        .headers_mut()
        .insert("sec-fetch-site", site.parse().unwrap());
    request
}

#[tokio::test]
async fn a_post_another_site_sent_without_origin_is_refused_by_sec_fetch_site() {
    let site = start().await;
    let alice = log_in(&site.app, ALICE, None).await;
    // same-site: a sibling subdomain (another tenant, a forgotten http://
    // host of the same registrable domain) gets SameSite=Lax cookies sent
    // along, so the cookie is no defence against it: refused too.
    for from in ["cross-site", "same-site"] {
        let mint = post("/api/checkout/token", "invoice_id=inv_1001", Some(&alice));
        let response = call(&site.app, fetched_from(from, mint)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "mint, {from}");
        let out = call(
            &site.app,
            fetched_from(from, post("/api/logout", "", Some(&alice))),
        )
        .await;
        assert_eq!(out.status(), StatusCode::FORBIDDEN, "log-out, {from}");
    }
    assert_eq!(site.sandbox.stats().checkout_tokens_issued, 0);
    // Still logged in: neither log-out reached the handler.
    assert!(whoami(&site.app, &alice)
        .await
        .contains("alice@example.com"));
}

#[tokio::test]
async fn the_sites_own_posts_and_the_users_own_navigations_pass() {
    let site = start().await;
    let alice = log_in(&site.app, ALICE, None).await;
    // `none`: the user did it (a bookmark, the address bar, a reload), not a
    // page; no other site can make a browser send it.
    for from in ["same-origin", "none"] {
        let mint = post("/api/checkout/token", "invoice_id=inv_1001", Some(&alice));
        let response = call(&site.app, fetched_from(from, mint)).await;
        assert_eq!(response.status(), StatusCode::OK, "{from}");
    }
    // GET is never refused: a link from anywhere may open a page.
    let page = Request::get("/login").body(Body::empty()).unwrap();
    let response = call(&site.app, fetched_from("cross-site", page)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_vendors_webhook_is_not_a_browser_post_and_is_not_refused() {
    let site = start().await;
    let body = serde_json::json!({
        "id": "evt_x1",
        "type": "payment.succeeded",
        "created_at": "2027-01-15T08:00:00Z",
        "data": {
            "payment": {"id": "pay_x1", "invoice_id": "inv_1001", "amount": "1250.00", "currency": "USD", "status": "succeeded"},
            "invoice": {"id": "inv_1001", "customer_id": "cus_acme", "status": "paid"}
        }
    })
    .to_string();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let delivery = Request::post("/webhooks/alternative")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            "alternative-signature",
            sign_for_tests(WEBHOOK_SECRET, now, body.as_bytes()),
        )
        .body(Body::from(body))
        .unwrap();
    let response = call(&site.app, fetched_from("cross-site", delivery)).await;
    assert_eq!(response.status(), StatusCode::OK);
}
