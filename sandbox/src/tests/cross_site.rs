//! Another site driving the sandbox through a visitor's browser: forged
//! control requests (reset, key rotation), CORS grants to origins not on the
//! list (and the merchant's, which is), and rotations forced faster than
//! verifiers can follow.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value;

use super::{harness, harness_with, pay_1001, Harness, Reply, NOW};
use crate::keys::FORCED_ROTATION_MIN_AGE_SECS;
use crate::{Config, ManualClock};

const EVIL: &str = "https://evil.example";

impl Harness {
    async fn signing_kid(&self) -> String {
        let token = self.checkout_token("cus_acme", "inv_1002").await;
        jsonwebtoken::decode_header(&token).unwrap().kid.unwrap()
    }

    async fn preflight(&self, path: &str, origin: &str, method: &str, headers: &str) -> Reply {
        self.send(
            Request::builder()
                .method("OPTIONS")
                .uri(path)
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, headers)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

/// What an HTML form on another site can send: a simple POST, no header of its own.
fn form_post(path: &str) -> Request<Body> {
    Request::post(path)
        .header(header::ORIGIN, EVIL)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("x=1"))
        .unwrap()
}

#[tokio::test]
async fn a_cross_site_form_post_can_neither_reset_nor_rotate() {
    let h = harness().await;
    h.clock
        .advance(Duration::from_secs(FORCED_ROTATION_MIN_AGE_SECS));
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    h.pay(&token, Some("k"), pay_1001()).await;
    let kid = h.signing_kid().await;

    for path in ["/sandbox/reset", "/sandbox/rotate-keys"] {
        let reply = h.send(form_post(path)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(reply.body["code"], "cross_origin_refused");
        // Even with the marker (which a form cannot send), the origin is refused.
        let mut with_marker = form_post(path);
        with_marker
            .headers_mut()
            .insert(crate::CONTROL_HEADER, "1".parse().unwrap());
        assert_eq!(h.send(with_marker).await.status, StatusCode::FORBIDDEN);
        // Without an Origin (an old browser, a form on a page with no origin)
        // the missing marker is enough.
        let no_origin = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("x=1"))
            .unwrap();
        let reply = h.send(no_origin).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(reply.body["code"], "control_header_required");
    }
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 1);
    assert_eq!(h.signing_kid().await, kid);
}

#[tokio::test]
async fn a_cross_site_page_gets_no_cors_grant_for_the_controls_even_from_an_allowed_origin() {
    let h = harness().await;
    for origin in [EVIL, "http://127.0.0.1:3000"] {
        for path in ["/sandbox/reset", "/sandbox/rotate-keys"] {
            let reply = h.preflight(path, origin, "POST", "x-sandbox-control").await;
            assert!(
                !reply
                    .headers
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
                "{origin} {path}"
            );
        }
    }
}

#[tokio::test]
async fn a_tool_with_the_marker_and_no_foreign_origin_may_reset() {
    let h = harness().await;
    assert_eq!(
        h.control("/sandbox/reset").await.status,
        StatusCode::NO_CONTENT
    );
    let from_the_merchant_origin = Request::post("/sandbox/reset")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header(crate::CONTROL_HEADER, "1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        h.send(from_the_merchant_origin).await.status,
        StatusCode::NO_CONTENT
    );
    let wrong_value = Request::post("/sandbox/reset")
        .header(crate::CONTROL_HEADER, "yes")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(wrong_value).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn controls_switched_off_do_not_exist_and_are_not_documented() {
    let config = Config {
        controls: false,
        ..Config::unlimited_in_memory()
    };
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    h.clock
        .advance(Duration::from_secs(FORCED_ROTATION_MIN_AGE_SECS));
    for path in [
        "/sandbox/reset",
        "/sandbox/rotate-keys",
        "/sandbox/clock",
        "/sandbox/tokens/ct_x/expire",
        "/sandbox/tokens/ct_x/revoke",
    ] {
        assert_eq!(
            h.control(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let doc = h
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    let paths = doc.body["paths"].as_object().unwrap();
    for path in crate::controls::PATHS {
        assert!(!paths.contains_key(path), "{path}");
    }
    assert!(paths.contains_key("/sandbox/stats"));
    assert!(paths.contains_key("/oauth/token"));
}

#[tokio::test]
async fn rotations_forced_faster_than_a_verifier_may_refetch_the_jwks_are_refused() {
    let h = harness().await;
    // A fresh key has not signed long enough yet.
    let early = h.control("/sandbox/rotate-keys").await;
    assert_eq!(early.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(early.body["code"], "rate_limited");
    assert_eq!(early.headers[header::RETRY_AFTER], "30");

    h.clock
        .advance(Duration::from_secs(FORCED_ROTATION_MIN_AGE_SECS));
    let first = h.signing_kid().await;
    assert_eq!(
        h.control("/sandbox/rotate-keys").await.status,
        StatusCode::NO_CONTENT
    );
    let second = h.signing_kid().await;
    assert_ne!(first, second);
    // A second rotation 29 s later would outrun a verifier's 10 s refetch floor
    // by less than the margin: refused, with the wait.
    h.clock.advance(Duration::from_secs(29));
    let again = h.control("/sandbox/rotate-keys").await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.headers[header::RETRY_AFTER], "1");
    assert_eq!(h.signing_kid().await, second);
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(
        h.control("/sandbox/rotate-keys").await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn an_origin_not_in_the_configured_list_gets_no_cors_grant() {
    // An embedding server sets the exact list: the standalone defaults are gone.
    let config = Config {
        allowed_origins: vec!["http://shop.test:8080".to_owned()],
        ..Config::unlimited_in_memory()
    };
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let read_from = |origin: &'static str| {
        Request::get("/checkout/v1/invoice")
            .header(header::ORIGIN, origin)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    for origin in [EVIL, "http://127.0.0.1:3000", "http://shop.test:8081"] {
        let simple = h.send(read_from(origin)).await;
        assert!(
            !simple
                .headers
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "{origin}"
        );
        let preflight = h
            .preflight("/checkout/v1/invoice", origin, "GET", "authorization")
            .await;
        assert!(
            !preflight
                .headers
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "{origin}"
        );
    }
    let listed = h.send(read_from("http://shop.test:8080")).await;
    assert_eq!(
        listed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://shop.test:8080"
    );
    assert_eq!(listed.body["invoice_number"], Value::from("INV-1001"));
}

#[tokio::test]
async fn cors_admits_the_merchant_origin_only() {
    let h = harness().await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/checkout/v1/invoice")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = h.send(preflight("http://127.0.0.1:3000")).await;
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:3000"
    );
    let refused = h.send(preflight("https://evil.example")).await;
    assert!(!refused
        .headers
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));

    // The page may read `Retry-After` (not a CORS-safelisted header): the
    // SDK waits that long before it asks again.
    let answer = h
        .send(
            Request::get("/checkout/v1/invoice")
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        answer.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
        "retry-after"
    );
}
