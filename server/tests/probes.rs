//! `/healthz` and `/readyz` as a load balancer sees them: readiness follows
//! the vendor and the database down and back up, by itself.

mod support;

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use support::*;

async fn probe(site: &TestSite, path: &str) -> (StatusCode, String) {
    let response = call(&site.app, Request::get(path).body(Body::empty()).unwrap()).await;
    (response.status(), text(response).await)
}

#[tokio::test]
async fn readiness_fails_while_the_vendor_is_down_and_recovers_by_itself() {
    let site = start().await;
    assert_eq!(
        probe(&site, "/readyz").await,
        (StatusCode::OK, "ready".into())
    );

    site.vendor_down.store(true, Ordering::SeqCst);
    let (status, body) = probe(&site, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("vendor"), "{body}");
    // Alive all the same: nothing a restart would mend.
    assert_eq!(probe(&site, "/healthz").await.0, StatusCode::OK);

    site.vendor_down.store(false, Ordering::SeqCst);
    assert_eq!(
        probe(&site, "/readyz").await,
        (StatusCode::OK, "ready".into())
    );
}

#[tokio::test]
async fn readiness_fails_without_the_database_and_says_which_part() {
    let site = start().await;
    site.db.pool().close().await;
    let (status, body) = probe(&site, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("database"), "{body}");
    assert_eq!(probe(&site, "/healthz").await.0, StatusCode::OK);
}

/// A page request as the browser sends it, with `session`'s cookie.
fn page(path: &str, session: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, format!("merchant_session={session}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn without_the_database_pages_and_calls_say_so() {
    let site = start().await;
    let alice = log_in(&site.app, ALICE, None).await;
    site.db.pool().close().await;

    let bob = "email=bob@example.com&password=bob-demo-password";
    for (what, request) in [
        ("log-in", post("/api/login", bob, None)),
        (
            "mint",
            post("/api/checkout/token", "invoice_id=inv_1001", Some(&alice)),
        ),
        ("invoices", post("/api/invoices", "", Some(&alice))),
        ("home page", page("/", &alice)),
        ("checkout page", page("/checkout/inv_1001", &alice)),
    ] {
        let response = call(&site.app, request).await;
        let status = response.status();
        let body = text(response).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        // A call gets the code; a page shows the sentence.
        let says = if what.ends_with("page") {
            "We cannot reach our records right now. Nothing was lost"
        } else {
            r#"{"code":"storage_unavailable"}"#
        };
        assert!(body.contains(says), "{what}: {body}");
    }
}

/// Overload answered, not queued: past `MERCHANT_MAX_IN_FLIGHT` requests at
/// once, one more is answered at once "busy"; the probes still answer, and
/// once the load is gone every request is served again.
#[tokio::test]
async fn past_the_requests_in_flight_one_more_is_answered_busy_at_once() {
    let site = start_with(Options {
        max_in_flight: 1,
        ..Options::default()
    })
    .await;
    let alice = log_in(&site.app, ALICE, None).await;
    // One request in flight, held at the vendor's invoice read.
    let held = site.gate.hold_next();
    let in_flight = tokio::spawn({
        let (app, alice) = (site.app.clone(), alice.clone());
        async move {
            call(
                &app,
                post("/api/checkout/invoice", "invoice_id=inv_1001", Some(&alice)),
            )
            .await
        }
    });
    held.reached.await.unwrap();

    let shed = call(&site.app, post("/api/whoami", "", Some(&alice))).await;
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()["retry-after"], "1");
    assert!(text(shed).await.contains(r#""code":"busy""#));
    let probe = call(
        &site.app,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(probe.status(), StatusCode::OK, "the probes are not shed");

    held.release.send(()).unwrap();
    assert_eq!(in_flight.await.unwrap().status(), StatusCode::OK);
    assert!(whoami(&site.app, &alice)
        .await
        .contains("alice@example.com"));
}
