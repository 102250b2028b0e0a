//! The server-rendered pages, as each environment serves them, and the
//! browser security headers on them.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::*;

async fn checkout_page(site: &TestSite) -> String {
    let cookie = log_in(&site.app, ALICE, None).await;
    let page = call(&site.app, page("/checkout/inv_1001", &cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    text(page).await
}

#[tokio::test]
async fn the_developer_panel_is_shown_in_the_sandbox_environment_only() {
    let sandbox = start().await;
    assert!(checkout_page(&sandbox)
        .await
        .contains(r#"data-testid="developer-panel""#));
    let production = start_in(Environment::Production).await;
    let html = checkout_page(&production).await;
    assert!(html.contains(r#"data-testid="invoice-number""#));
    assert!(!html.contains("developer-panel"));
}

/// The `nonce` attribute of every `<script>` in `html`.
fn script_nonces(html: &str) -> Vec<Option<String>> {
    html.split("<script")
        .skip(1)
        .map(|tag| {
            let tag = &tag[..tag.find('>').unwrap()];
            let value = tag.split(r#"nonce=""#).nth(1)?;
            Some(value[..value.find('"').unwrap()].to_owned())
        })
        .collect()
}

fn header<'a>(page: &'a axum::response::Response, name: &str) -> Option<&'a str> {
    page.headers().get(name).map(|v| v.to_str().unwrap())
}

// This test once hung in a clean-clone run (load average near zero): the
// route listing of another test's router caught its render, as in
// `a_page_renders_while_other_routers_are_built` below.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_script_on_a_page_carries_the_nonce_its_policy_names_and_no_two_pages_share_one() {
    let site = start().await;
    let cookie = log_in(&site.app, ALICE, None).await;
    let mut nonces = Vec::new();
    for path in ["/login", "/checkout/inv_1001", "/no-such-page"] {
        let page = call(&site.app, page(path, &cookie)).await;
        let policy = header(&page, "content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_owned();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"))
            .to_owned();
        for directive in [
            "script-src 'self' 'nonce-",
            "' 'wasm-unsafe-eval';",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
            "form-action 'self'",
            "connect-src 'self' http://127.0.0.1:",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: {directive} not in {policy}"
            );
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(header(&page, "referrer-policy"), Some("same-origin"));
        assert_eq!(header(&page, "x-content-type-options"), Some("nosniff"));
        assert_eq!(
            header(&page, "strict-transport-security"),
            None,
            "no HSTS in the sandbox"
        );
        let html = tokio::time::timeout(std::time::Duration::from_secs(30), text(page))
            .await
            .unwrap_or_else(|_| panic!("{path}: body not finished in 30 s"));
        let scripts = script_nonces(&html);
        assert!(
            !scripts.is_empty(),
            "{path}: the hydration script is missing"
        );
        assert!(
            scripts.iter().all(|n| n.as_deref() == Some(nonce.as_str())),
            "{path}: scripts {scripts:?}, policy nonce {nonce}"
        );
        assert!(nonce.len() >= 22, "128 bits, base64url: {nonce}");
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a nonce used twice");
}

#[tokio::test]
async fn hsts_outside_the_sandbox_environment_on_every_answer() {
    let production = start_in(Environment::Production).await;
    for path in ["/login", "/healthz"] {
        let page = call(
            &production.app,
            Request::get(path).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(
            header(&page, "strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
        assert!(header(&page, "content-security-policy").is_some(), "{path}");
    }
}

/// Every page names itself (WCAG 2.4.2): the not-found page had no title.
#[tokio::test]
async fn the_page_not_found_has_a_title_and_a_way_back() {
    let site = start().await;
    let page = call(
        &site.app,
        Request::get("/no-such-page").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let html = text(page).await;
    assert!(
        html.contains("<title>Page not found — Demo Merchant</title>"),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/">"#), "{html}");
}

/// The page not found knows who is logged in, as every page does: its
/// header asks, and without the services in its render that answered a
/// logged-in visitor 500.
#[tokio::test]
async fn the_page_not_found_knows_a_logged_in_visitor() {
    let site = start().await;
    let cookie = log_in(&site.app, BOB, None).await;
    let page = call(&site.app, page("/no-such-page", &cookie)).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let html = text(page).await;
    assert!(html.contains("Bob (Globex Corporation)"), "{html}");
    assert!(html.contains("<title>Page not found — Demo Merchant</title>"));
}

/// An asset is answered as itself while pages not found render beside it
/// on the same runtime. Served through leptos_axum's file handler, a file
/// took the status of a render it found in leptos's context: WebKit, which
/// asked for /favicon.ico with each page (a page not found then), got the
/// wasm answered 500 about one page load in twenty, and the checkout never
/// hydrated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_answered_as_themselves_beside_pages_not_found() {
    let site = start().await;
    let cookie = log_in(&site.app, BOB, None).await;
    let asset = format!("/pkg/{ASSET}");
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..400 {
        let (app, cookie) = (site.app.clone(), cookie.clone());
        let path = if i % 2 == 0 {
            asset.clone()
        } else {
            "/no-such-page".to_owned()
        };
        calls.spawn(async move {
            let status = call(&app, page(&path, &cookie)).await.status();
            (path, status)
        });
    }
    let mut wrong = Vec::new();
    while let Some(answer) = calls.join_next().await {
        let (path, status) = answer.unwrap();
        let expected = if path == asset {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        if status != expected {
            wrong.push(format!("{path}: {status}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 400 answered wrongly: {wrong:?}",
        wrong.len()
    );
    // Still under the site's caching rule (names unhashed here: revalidate).
    let answer = call(&site.app, page(&asset, &cookie)).await;
    assert_eq!(answer.headers().get("cache-control").unwrap(), "no-cache");
    assert_eq!(text(answer).await.as_bytes(), b"\0asm\x01\0\0\0");
}

/// leptos lists an app's routes by running it with every resource held
/// back, by a flag of the whole process: a page rendered on another thread
/// meanwhile waited for good (leptos-rs/leptos#4773). `server::router`
/// lists them once per process, so routers built beside a render (another
/// test's, another instance's) cannot catch it. Without that, pages here
/// hang (each `call` fails after `ANSWER_WITHIN`): the builder keeps the
/// flag set most of the time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_renders_while_other_routers_are_built() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// Stops the builder when dropped, also when a page fails the test:
    /// the runtime waits for its blocking threads before the test ends.
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    let site = Arc::new(start().await);
    let cookie = log_in(&site.app, ALICE, None).await;
    let stop = Stop(Arc::new(AtomicBool::new(false)));
    let building = tokio::task::spawn_blocking({
        let (site, stopped) = (site.clone(), stop.0.clone());
        move || {
            let mut built = 0;
            while !stopped.load(Ordering::Relaxed) {
                drop(beside(&site, &Options::default()));
                built += 1;
            }
            built
        }
    });
    for _ in 0..20 {
        let page = text(call(&site.app, page("/checkout/inv_1001", &cookie)).await).await;
        assert!(page.contains("INV-1001"), "{page}");
    }
    drop(stop);
    assert!(building.await.unwrap() > 0);
}

/// Browsers ask for an icon with every page. Named by the page and
/// answered without a render, it leaves the session alone: the page not
/// found that answered /favicon.ico read the session and slid its expiry,
/// setting the cookie again on every page view.
#[tokio::test]
async fn the_icon_is_answered_without_the_session() {
    let site = start().await;
    let cookie = log_in(&site.app, BOB, None).await;
    let home = text(call(&site.app, page("/", &cookie)).await).await;
    assert!(
        home.contains(r#"rel="icon" type="image/svg+xml" href="/icon.svg""#),
        "{home}"
    );

    let icon = call(&site.app, page("/icon.svg", &cookie)).await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert_eq!(icon.headers().get("set-cookie"), None);
    assert!(text(icon).await.starts_with("<svg"));

    let guessed = call(&site.app, page("/favicon.ico", &cookie)).await;
    assert_eq!(guessed.status(), StatusCode::NOT_FOUND);
    assert_eq!(guessed.headers().get("set-cookie"), None);
    assert_eq!(text(guessed).await, "");
}
