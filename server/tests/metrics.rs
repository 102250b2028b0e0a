//! The metrics listener after a checkout: the counts moved as they should.
//! One test in this binary: the recorder is the process's.

mod support;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use merchant::SqlSessions;
use support::*;

/// Every sample of the Prometheus text format, by its series
/// (`name{labels}`, as rendered).
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn a_checkout_moves_the_counts_it_should() {
    let handle = server::metrics::install().unwrap();
    let site = start().await;
    let metrics = server::metrics::router(handle, SqlSessions::new(site.db.pool().clone()));
    let scrape = || async {
        let answer = call(
            &metrics,
            Request::get("/metrics").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::OK);
        samples(&text(answer).await)
    };
    let before = scrape().await;

    // A wrong password, a log-in, the same token minted twice (the second
    // time by the page's timer, it says), another customer's invoice (with
    // a reason the server does not know).
    let refused = call(
        &site.app,
        post(
            "/api/login",
            &format!("email={}&password=nope", ALICE.0),
            None,
        ),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let cookie = log_in(&site.app, ALICE, None).await;
    for form in [
        "invoice_id=inv_1001",
        "invoice_id=inv_1001&reason=timer",
        "invoice_id=inv_2001&reason=made%0Aup",
    ] {
        call(&site.app, post("/api/checkout/token", form, Some(&cookie))).await;
    }

    let after = scrape().await;
    let moved = |series: &str| {
        after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
    };
    let expected = [
        (
            r#"merchant_logins_total{outcome="invalid_credentials"}"#,
            1.0,
        ),
        (r#"merchant_logins_total{outcome="ok"}"#, 1.0),
        (
            r#"merchant_mints_total{outcome="issued",reason="unknown"}"#,
            1.0,
        ),
        (
            r#"merchant_mints_total{outcome="reused",reason="timer"}"#,
            1.0,
        ),
        (
            r#"merchant_mints_total{outcome="unknown_invoice",reason="unknown"}"#,
            1.0,
        ),
        (
            r#"merchant_mint_duration_seconds_count{outcome="issued"}"#,
            1.0,
        ),
        (
            r#"alternative_vendor_calls_total{endpoint="oauth_token",status="200"}"#,
            1.0,
        ),
        (
            r#"alternative_vendor_calls_total{endpoint="init",status="200"}"#,
            1.0,
        ),
        (
            r#"alternative_vendor_call_duration_seconds_count{endpoint="init"}"#,
            1.0,
        ),
    ];
    for (series, by) in expected {
        assert_eq!(moved(series), by, "{series}; scraped: {after:#?}");
    }
    // The reused token made no vendor call, and the unknown invoice none.
    assert_eq!(after["merchant_active_sessions"], 1.0);
    assert!(
        after.contains_key(r#"merchant_mint_duration_seconds_bucket{outcome="reused",le="0.005"}"#),
        "{after:#?}"
    );
}
