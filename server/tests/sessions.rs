//! A log-out stays done, a late answer never hands back a replaced or
//! ended session's id (nor clears the new one), and strangers store
//! nothing, through the whole HTTP stack: each race is played on purpose
//! (hold a request at the vendor, do the other thing, release it), not
//! left to timing.

mod support;

use std::time::Duration;

use axum::http::{header, Request, StatusCode};
use support::*;

#[tokio::test]
async fn a_request_running_through_a_log_out_does_not_log_the_session_back_in() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;

    let held = site.gate.hold_next();
    let running = tokio::spawn({
        let (app, cookie) = (site.app.clone(), cookie.clone());
        async move {
            call(
                &app,
                post(
                    "/api/checkout/invoice",
                    "invoice_id=inv_1001",
                    Some(&cookie),
                ),
            )
            .await
        }
    });
    held.reached.await.unwrap();
    let out = call(&site.app, post("/api/logout", "", Some(&cookie))).await;
    assert!(
        out.status().is_success() || out.status().is_redirection(),
        "{}",
        out.status()
    );
    // The log-out's own answer tells the browser to drop the cookie.
    assert_eq!(set_session_cookie(&out).as_deref(), Some(""));
    held.release.send(()).unwrap();
    let late = running.await.unwrap();
    assert_eq!(late.status(), StatusCode::OK);
    // The late answer does not hand the ended id back to the browser.
    assert_eq!(set_session_cookie(&late), None);

    // The stolen (or simply old) cookie is worth nothing now.
    assert_eq!(whoami(&site.app, &cookie).await, "null");
    let mint = call(
        &site.app,
        post("/api/checkout/token", "invoice_id=inv_1001", Some(&cookie)),
    )
    .await;
    assert_eq!(mint.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(session_rows(&site.db).await, 0);
}

#[tokio::test]
async fn a_request_running_through_a_log_in_cannot_revive_the_replaced_id() {
    let site = start().await;
    let old = log_in(&site.app, ALICE, None).await;

    let held = site.gate.hold_next();
    let running = tokio::spawn({
        let (app, old) = (site.app.clone(), old.clone());
        async move {
            call(
                &app,
                post("/api/checkout/invoice", "invoice_id=inv_1001", Some(&old)),
            )
            .await
        }
    });
    held.reached.await.unwrap();
    // Logging in again with the old cookie gives the session a new id.
    let new = log_in(&site.app, ALICE, Some(&old)).await;
    assert_ne!(new, old);
    held.release.send(()).unwrap();
    let late = running.await.unwrap();
    assert_eq!(late.status(), StatusCode::OK);
    // The browser keeps the last cookie it is given: the late answer must
    // give none, or the tab that logged in finds itself logged out.
    assert_eq!(set_session_cookie(&late), None);

    assert_eq!(whoami(&site.app, &old).await, "null");
    assert!(whoami(&site.app, &new).await.contains("alice@example.com"));
    assert_eq!(session_rows(&site.db).await, 1);
}

#[tokio::test]
async fn a_page_rendered_through_a_log_out_does_not_hand_the_ended_id_back() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;

    let held = site.gate.hold_next();
    let rendering = tokio::spawn({
        let (app, cookie) = (site.app.clone(), cookie.clone());
        async move { call(&app, page("/checkout/inv_1001", &cookie)).await }
    });
    held.reached.await.unwrap();
    let out = call(&site.app, post("/api/logout", "", Some(&cookie))).await;
    assert_eq!(out.status(), StatusCode::OK);
    held.release.send(()).unwrap();
    let late = rendering.await.unwrap();
    assert_eq!(late.status(), StatusCode::OK);
    assert_eq!(set_session_cookie(&late), None);
    assert_eq!(whoami(&site.app, &cookie).await, "null");
}

#[tokio::test]
async fn a_request_sent_with_the_replaced_cookie_does_not_clear_the_new_one() {
    let site = start().await;
    let old = log_in(&site.app, ALICE, None).await;
    // Another tab logs in again; this tab's request, sent before its
    // browser had the new cookie, arrives after.
    let new = log_in(&site.app, ALICE, Some(&old)).await;
    let late = call(&site.app, post("/api/whoami", "", Some(&old))).await;
    assert_eq!(text_of(late).await, (None, "null".to_owned()));
    assert!(whoami(&site.app, &new).await.contains("alice@example.com"));
}

/// The session cookie an answer sets, and its body.
async fn text_of(response: axum::http::Response<axum::body::Body>) -> (Option<String>, String) {
    (set_session_cookie(&response), text(response).await)
}

#[tokio::test]
async fn an_unknown_cookie_stores_nothing_and_gets_no_session() {
    let site = start().await;
    for _ in 0..20 {
        let stranger = tower_sessions::session::Id::default().to_string();
        let request = Request::get("/healthz")
            .header(header::COOKIE, format!("merchant_session={stranger}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let response = call(&site.app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers().get(header::SET_COOKIE), None);
    }
    // A request that does read the session: told no one is logged in, and
    // at most told to drop the cookie.
    let stranger = tower_sessions::session::Id::default().to_string();
    let response = call(&site.app, post("/api/whoami", "", Some(&stranger))).await;
    assert!(matches!(
        set_session_cookie(&response).as_deref(),
        None | Some("")
    ));
    assert_eq!(text(response).await, "null");
    let wrong = format!("email={}&password=wrong", ALICE.0);
    let response = call(&site.app, post("/api/login", &wrong, Some(&stranger))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(matches!(
        set_session_cookie(&response).as_deref(),
        None | Some("")
    ));
    assert_eq!(session_rows(&site.db).await, 0);
}

#[tokio::test]
async fn a_session_is_stored_once_it_has_a_user_and_its_expiry_slides_with_use() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;
    assert_eq!(session_rows(&site.db).await, 1);
    let expiry = |db: &merchant::db::Database| {
        let pool = db.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT expires_at FROM sessions")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let at_log_in = expiry(&site.db).await;
    // A use re-sets the expiry; the cookie says so (Max-Age from now).
    let response = call(&site.app, post("/api/whoami", "", Some(&cookie))).await;
    assert_eq!(
        set_session_cookie(&response).as_deref(),
        Some(cookie.as_str())
    );
    // (Written to the database only once it slid a minute: merchant::sessions.)
    assert_eq!(expiry(&site.db).await, at_log_in);
}

#[tokio::test]
async fn answers_that_carry_a_token_or_the_sessions_data_are_never_stored() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;
    let mint = call(
        &site.app,
        post("/api/checkout/token", "invoice_id=inv_1001", Some(&cookie)),
    )
    .await;
    assert_eq!(mint.status(), StatusCode::OK);
    let page = call(&site.app, page("/checkout/inv_1001", &cookie)).await;
    for response in [&mint, &page] {
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }
}

#[tokio::test]
async fn a_user_removed_elsewhere_loses_access_once_the_copies_are_stale() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;
    // Another process (`server users remove`) or instance removes her row.
    sqlx::query("DELETE FROM users WHERE email = $1")
        .bind(ALICE.0)
        .execute(site.db.pool())
        .await
        .unwrap();
    // This server trusts what it read for 5 s (merchant::sessions::FRESH_FOR);
    // tokio's clock is moved past that, then runs on for the requests.
    tokio::time::pause();
    tokio::time::advance(merchant::sessions::FRESH_FOR).await;
    tokio::time::resume();
    assert_eq!(whoami(&site.app, &cookie).await, "null");
}

#[tokio::test]
async fn a_session_ends_at_its_max_age_however_busy_it_was() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;
    // Used all along (the inactivity expiry never runs out), to a minute
    // before the 12 hours…
    site.clock.advance(Duration::from_secs(12 * 3600 - 60));
    assert!(whoami(&site.app, &cookie)
        .await
        .contains("alice@example.com"));
    // …and not after: the page behaves as logged out, the session is gone.
    site.clock.advance(Duration::from_secs(60));
    assert_eq!(whoami(&site.app, &cookie).await, "null");
    let mint = call(
        &site.app,
        post("/api/checkout/token", "invoice_id=inv_1001", Some(&cookie)),
    )
    .await;
    assert_eq!(mint.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(session_rows(&site.db).await, 0);
    // Logging in again starts a new one.
    let again = log_in(&site.app, ALICE, Some(&cookie)).await;
    assert!(whoami(&site.app, &again)
        .await
        .contains("alice@example.com"));
}

#[tokio::test]
async fn a_user_removed_here_loses_access_at_their_next_request() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;
    let removed = site.users.remove(ALICE.0).await.unwrap();
    assert_eq!(removed.map(|user| user.email).as_deref(), Some(ALICE.0));
    assert_eq!(whoami(&site.app, &cookie).await, "null");
    let mint = call(
        &site.app,
        post("/api/checkout/token", "invoice_id=inv_1001", Some(&cookie)),
    )
    .await;
    assert_eq!(mint.status(), StatusCode::UNAUTHORIZED);
}
