//! What one client can do to others: spend the vendor quota, lock an owner
//! out, forge log lines, bounce a form to another site. Each is stopped.

mod support;

use axum::http::{header, StatusCode};
use support::*;

/// One user floods invoice reads (each spends vendor quota); another
/// user's read and mint still go through.
#[tokio::test]
async fn one_user_flooding_invoice_reads_leaves_the_quota_to_others() {
    let site = start().await;
    let alice = log_in(&site.app, ALICE, None).await;
    let bob = log_in(&site.app, BOB, None).await;

    let flood: Vec<_> = (0..24)
        .map(|_| {
            let (app, alice) = (site.app.clone(), alice.clone());
            tokio::spawn(async move {
                call(
                    &app,
                    post("/api/checkout/invoice", "invoice_id=inv_1001", Some(&alice)),
                )
                .await
                .status()
            })
        })
        .collect();
    let read = call(
        &site.app,
        post("/api/checkout/invoice", "invoice_id=inv_2001", Some(&bob)),
    )
    .await;
    assert_eq!(read.status(), StatusCode::OK, "{}", text(read).await);
    let mint = call(
        &site.app,
        post("/api/checkout/token", "invoice_id=inv_2001", Some(&bob)),
    )
    .await;
    assert_eq!(mint.status(), StatusCode::OK);

    let mut answers = Vec::new();
    for call in flood {
        answers.push(call.await.unwrap());
    }
    let served = answers.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = answers
        .iter()
        .filter(|s| {
            matches!(
                **s,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            )
        })
        .count();
    assert_eq!(served + refused, 24, "{answers:?}");
    assert!(refused > 0 && served > 0, "{answers:?}");
}

/// Anyone can send wrong passwords for an account; its owner still gets in.
#[tokio::test]
async fn wrong_passwords_from_elsewhere_do_not_lock_the_owner_out() {
    let site = start().await;
    let wrong = format!("email={}&password=guess", BOB.0);
    for n in 1..=5 {
        let response = call(
            &site.app,
            from(&format!("192.0.2.{n}"), post("/api/login", &wrong, None)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // The guessers are refused before their password is even checked…
    let right = format!("email={}&password={}", BOB.0, BOB.1);
    let guesser = call(
        &site.app,
        from("192.0.2.1", post("/api/login", &right, None)),
    )
    .await;
    assert_eq!(guesser.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(guesser.headers().contains_key(header::RETRY_AFTER));
    // …while the owner, from an address that has not been failing, gets in.
    let owner = call(
        &site.app,
        from("198.51.100.7", post("/api/login", &right, None)),
    )
    .await;
    assert!(
        owner.status().is_success() || owner.status().is_redirection(),
        "{}",
        owner.status()
    );
    assert!(set_session_cookie(&owner).is_some_and(|c| !c.is_empty()));
}

/// An id that could start a new log line (or anything else off its shape)
/// is refused before anything reads it.
#[tokio::test]
async fn an_invoice_id_off_its_documented_shape_is_refused_first() {
    let site = start().await;
    let alice = log_in(&site.app, ALICE, None).await;
    for id in [
        "inv_1001%0A2026-12-01T00%3A00%3A00Z%20INFO%20logged%20in",
        "inv%00",
        "",
        &"x".repeat(65),
    ] {
        for path in ["/api/checkout/token", "/api/checkout/invoice"] {
            let form = format!("invoice_id={id}");
            let response = call(&site.app, post(path, &form, Some(&alice))).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path} {id}");
            assert!(text(response).await.contains("bad_request"));
        }
    }
    assert_eq!(site.sandbox.stats().checkout_tokens_issued, 0);
}

/// A form post asking for HTML is sent back to its Referer — only if that
/// is a page of this site.
#[tokio::test]
async fn a_form_post_is_never_redirected_to_another_site() {
    let site = start().await;
    let with_referer = |referer: &str| {
        let mut request = post("/api/whoami", "", None);
        let headers = request.headers_mut();
        headers.insert(header::ACCEPT, "text/html".parse().unwrap());
        headers.insert(header::REFERER, referer.parse().unwrap());
        request
    };
    let location = |response: &axum::http::Response<axum::body::Body>| {
        response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned())
    };
    let foreign = call(&site.app, with_referer("https://evil.example/phish")).await;
    assert_eq!(location(&foreign).as_deref(), Some("/"));
    let own = call(
        &site.app,
        with_referer("http://127.0.0.1:3000/checkout/inv_1001"),
    )
    .await;
    let own = location(&own).unwrap();
    assert!(
        own.starts_with("http://127.0.0.1:3000/checkout/inv_1001"),
        "{own}"
    );
}

/// Log-in returns to the page named in `next` (a checkout whose session
/// ended links there) — only to a plain path on this site.
#[tokio::test]
async fn log_in_returns_to_a_page_of_this_site_and_nowhere_else() {
    let site = start().await;
    let (email, password) = ALICE;
    let log_in_to = |next: &str, password: &str| {
        let mut request = post(
            "/api/login",
            &format!("email={email}&password={password}&next={next}"),
            None,
        );
        request
            .headers_mut()
            .insert(header::ACCEPT, "text/html".parse().unwrap());
        request
    };
    let location = |response: &axum::http::Response<axum::body::Body>| {
        response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned())
    };
    let back = call(&site.app, log_in_to("%2Fcheckout%2Finv_1001", password)).await;
    assert_eq!(location(&back).as_deref(), Some("/checkout/inv_1001"));
    for elsewhere in [
        "%2F%2Fevil.example%2Fphish",
        "https%3A%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%2Fcheckout%3Fa%3Db",
    ] {
        let sent = call(&site.app, log_in_to(elsewhere, password)).await;
        assert_eq!(location(&sent).as_deref(), Some("/"), "{elsewhere}");
    }
    // A refusal goes back to the form, still knowing where to return.
    let refused = call(&site.app, log_in_to("%2Fcheckout%2Finv_1001", "wrong")).await;
    assert_eq!(
        location(&refused).as_deref(),
        Some("/login?next=/checkout/inv_1001&error=invalid_credentials")
    );
}
