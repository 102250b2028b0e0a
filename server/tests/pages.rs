//! The server-rendered pages, as each environment serves them.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use support::*;

async fn checkout_page(site: &TestSite) -> String {
    let cookie = log_in(&site.app, ALICE, None).await;
    let page = call(
        &site.app,
        Request::get("/checkout/inv_1001")
            .header(header::COOKIE, format!("merchant_session={cookie}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    text(page).await
}

#[tokio::test]
async fn the_developer_panel_is_shown_in_the_sandbox_environment_only() {
    let sandbox = start().await;
    assert!(checkout_page(&sandbox)
        .await
        .contains(r#"data-testid="developer-panel""#));
    let production = start_with(app::Deployment {
        developer_panel: false,
    })
    .await;
    let html = checkout_page(&production).await;
    assert!(html.contains(r#"data-testid="invoice-number""#));
    assert!(!html.contains("developer-panel"));
}
