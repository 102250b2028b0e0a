//! `/healthz` and `/readyz` as a load balancer sees them: readiness follows
//! the vendor and the database down and back up, by itself.

mod support;

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Request, StatusCode};
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
