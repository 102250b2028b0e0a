//! Behind a load balancer: the per-address limits tell its clients apart by
//! the address it forwards, believe no one else's header, the cross-site
//! check still knows the site's own pages, and only the balancer names a
//! request's id.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use server::proxies::{ForwardedHeader, TrustedProxies};
use support::*;

const BALANCER: &str = "10.0.0.2";

fn behind_balancer() -> Options {
    Options {
        trusted_proxies: TrustedProxies::parse("10.0.0.0/8", ForwardedHeader::XForwardedFor)
            .unwrap(),
        public_origins: vec!["https://shop.example".into()],
        ..Options::default()
    }
}

/// A log-in for Bob from `peer`, with `X-Forwarded-For: forwarded`.
fn log_in_as_bob(peer: &str, forwarded: &str, password: &str) -> Request<Body> {
    let mut request = from(
        peer,
        post(
            "/api/login",
            &format!("email={}&password={password}", BOB.0),
            None,
        ),
    );
    request
        .headers_mut()
        .insert("x-forwarded-for", forwarded.parse().unwrap());
    request
}

/// Five wrong passwords for Bob from `guesser`, each through the balancer
/// or not; then whether the right one is still taken from `guesser` and
/// from `owner`.
async fn guess_then_log_in(
    site: &TestSite,
    peer: &str,
    guesser: &str,
    owner: &str,
) -> (StatusCode, StatusCode) {
    for _ in 0..5 {
        let wrong = call(&site.app, log_in_as_bob(peer, guesser, "guess")).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let guesser = call(&site.app, log_in_as_bob(peer, guesser, BOB.1)).await;
    let owner = call(&site.app, log_in_as_bob(peer, owner, BOB.1)).await;
    (guesser.status(), owner.status())
}

#[tokio::test]
async fn two_clients_behind_a_trusted_proxy_are_limited_apart() {
    let site = start_with(behind_balancer()).await;
    let (guesser, owner) = guess_then_log_in(&site, BALANCER, "192.0.2.1", "198.51.100.7").await;
    assert_eq!(guesser, StatusCode::TOO_MANY_REQUESTS);
    assert!(owner.is_success() || owner.is_redirection(), "{owner}");
}

#[tokio::test]
async fn a_forged_header_from_an_untrusted_peer_is_ignored() {
    let site = start_with(behind_balancer()).await;
    // The guesser connects directly and claims to be someone else each
    // time: every try counts against its own address.
    let direct = "203.0.113.9";
    for n in 1..=5 {
        let claimed = format!("192.0.2.{n}");
        let wrong = call(&site.app, log_in_as_bob(direct, &claimed, "guess")).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let again = call(&site.app, log_in_as_bob(direct, "192.0.2.99", BOB.1)).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn without_trusted_proxies_the_balancer_is_one_client() {
    // The default: the forwarded header means nothing, so the owner
    // behind the same balancer is refused with the guesser — what
    // MERCHANT_TRUSTED_PROXIES is for.
    let site = start().await;
    let (guesser, owner) = guess_then_log_in(&site, BALANCER, "192.0.2.1", "198.51.100.7").await;
    assert_eq!(guesser, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(owner, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_cross_site_check_works_behind_the_proxy() {
    let site = start_with(behind_balancer()).await;
    let whoami_from = |origin: &str| {
        let mut request = from(BALANCER, post("/api/whoami", "", None));
        let headers = request.headers_mut();
        headers.insert(header::ORIGIN, origin.parse().unwrap());
        headers.insert("x-forwarded-for", "192.0.2.1".parse().unwrap());
        request
    };
    let own = call(&site.app, whoami_from("https://shop.example")).await;
    assert_eq!(own.status(), StatusCode::OK);
    let foreign = call(&site.app, whoami_from("https://evil.example")).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
}

/// The `X-Request-Id` of the answer to a `/healthz` from `peer` (or from no
/// known peer) that came with `X-Request-Id: sent`.
async fn request_id_from(site: &TestSite, peer: Option<&str>, sent: &str) -> String {
    let mut request = Request::get("/healthz")
        .header("x-request-id", sent)
        .body(Body::empty())
        .unwrap();
    if let Some(peer) = peer {
        request = from(peer, request);
    }
    let response = call(&site.app, request).await;
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn only_a_trusted_proxy_names_the_request_id() {
    let site = start_with(behind_balancer()).await;
    assert_eq!(
        request_id_from(&site, Some(BALANCER), "lb-7f3a").await,
        "lb-7f3a"
    );
    // Anyone else would choose the id the logs file their request under
    // (another request's, to muddle an investigation): a new one instead.
    for peer in [Some("203.0.113.9"), None] {
        let id = request_id_from(&site, peer, "lb-7f3a").await;
        assert_ne!(id, "lb-7f3a", "{peer:?}");
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
}
