//! The client against the sandbox (the vendor's stand-in, over HTTP) and
//! against stand-ins that misbehave on purpose: S1–S6 of the fault matrix
//! (docs/src/fault-matrix.md) and the checks on every relayed token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sandbox::{Config, Sandbox, SystemClock};

use crate::{ClientSecret, IssuedCheckoutToken, VendorClient, VendorConfig, VendorError};

struct Running {
    sandbox: Sandbox,
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start_sandbox(config: Config) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::open(config, SystemClock).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sandbox.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        sandbox,
        url,
        _stop: stop,
    }
}

fn config(url: &str, secret: &str) -> VendorConfig {
    VendorConfig::new(url, "demo_client_id", ClientSecret::new(secret))
}

fn client(url: &str, secret: &str) -> VendorClient {
    VendorClient::new(config(url, secret)).unwrap()
}

/// A token for one of the sandbox's demo invoices, for its customer.
async fn issue(
    client: &VendorClient,
    invoice_id: &str,
) -> Result<IssuedCheckoutToken, VendorError> {
    let customer = if invoice_id.starts_with("inv_2") {
        "cus_globex"
    } else {
        "cus_acme"
    };
    client.checkout_token(customer, invoice_id).await
}

/// A stand-in vendor that answers every request with `reply` and counts them.
async fn fake_vendor(
    reply: impl Fn() -> Response + Clone + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let app = axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        let reply = reply.clone();
        async move { reply() }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

fn calls(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn issues_checkout_tokens_with_one_oauth_call() {
    let running = start_sandbox(Config::in_memory()).await;
    let client = client(&running.url, "demo_client_secret");
    let first = issue(&client, "inv_1001").await.unwrap();
    let second = issue(&client, "inv_2001").await.unwrap();
    assert_ne!(first.token, second.token);
    // The sandbox's lifetime is 900 s; a moment has passed since.
    assert!(first.expires_in <= Duration::from_secs(900));
    assert!(first.expires_in >= Duration::from_secs(890));
    assert!(first.jti.is_some(), "the token's id, for the logs");
    let stats = running.sandbox.stats();
    assert_eq!(stats.oauth_tokens_issued, 1);
    assert_eq!(stats.checkout_tokens_issued, 2);
}

#[tokio::test]
async fn a_token_that_lives_under_two_seconds_is_refused_not_relayed() {
    let running = start_sandbox(Config {
        checkout_token_ttl: Duration::from_secs(1),
        ..Config::in_memory()
    })
    .await;
    let client = client(&running.url, "demo_client_secret");
    let err = issue(&client, "inv_1001").await.unwrap_err();
    assert!(matches!(err, VendorError::Malformed(_)), "{err:?}");
    assert!(!err.is_transient(), "asking again gets the same");
}

#[tokio::test]
async fn wrong_credentials_are_a_refusal_not_an_outage() {
    let running = start_sandbox(Config::in_memory()).await;
    let err = issue(&client(&running.url, "not-the-secret"), "inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VendorError::Rejected { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
    // The error names no credential.
    assert!(!format!("{err:?} {err}").contains("not-the-secret"));
}

#[tokio::test]
async fn a_vendor_that_is_down_is_unavailable() {
    // Bind and drop: nothing listens on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client(&format!("http://127.0.0.1:{port}"), "demo_client_secret");
    let err = issue(&client, "inv_1001").await.unwrap_err();
    assert!(matches!(err, VendorError::Unavailable { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn s5_a_redirect_is_not_followed() {
    let (url, counter) =
        fake_vendor(|| Redirect::temporary("http://example.invalid/").into_response()).await;
    let err = issue(&client(&url, "demo_client_secret"), "inv_1001")
        .await
        .unwrap_err();
    assert!(matches!(err, VendorError::Malformed(_)), "{err:?}");
    assert_eq!(calls(&counter), 1);
}

#[tokio::test]
async fn s1_a_vendor_that_hangs_is_unavailable_within_the_timeout() {
    // Accepts connections, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut config = config(&url, "s");
    config.total_timeout = Duration::from_millis(100);
    let err = issue(&VendorClient::new(config).unwrap(), "inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VendorError::Unavailable { ref reason, .. } if reason == "timed out"),
        "{err:?}"
    );
}

#[tokio::test]
async fn s2_a_5xx_is_retried_twice_then_reported_unavailable() {
    let (url, counter) = fake_vendor(|| StatusCode::SERVICE_UNAVAILABLE.into_response()).await;
    let err = issue(&client(&url, "s"), "inv_1001").await.unwrap_err();
    assert!(matches!(err, VendorError::Unavailable { .. }), "{err:?}");
    assert_eq!(calls(&counter), 3);

    let (url, counter) =
        fake_vendor(|| (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response())
            .await;
    let err = issue(&client(&url, "s"), "inv_1001").await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(calls(&counter), 3);
}

#[tokio::test]
async fn s3_a_revoked_oauth_token_is_dropped_refetched_and_retried_once() {
    let mut config = Config::in_memory();
    config.faults.oauth_revoke_rate = 1.0;
    let running = start_sandbox(config).await;
    let err = issue(&client(&running.url, "demo_client_secret"), "inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VendorError::Rejected { status: 401, .. }),
        "{err:?}"
    );
    let stats = running.sandbox.stats();
    assert_eq!(stats.oauth_tokens_issued, 2, "one refetch, no more");
}

#[tokio::test]
async fn s4_nonsense_from_the_vendor_is_a_parse_error() {
    let bodies: [(&str, &str); 5] = [
        ("application/json", "{not json"),
        (
            "application/json",
            r#"{"token_type":"Bearer","expires_in":3600}"#,
        ),
        (
            "application/json",
            r#"{"access_token":"x","token_type":"mac","expires_in":3600}"#,
        ),
        (
            "application/json",
            r#"{"access_token":"x","token_type":"Bearer"}"#,
        ),
        ("text/html", "<html>maintenance</html>"),
    ];
    for (content_type, body) in bodies {
        let (url, _) =
            fake_vendor(move || ([("content-type", content_type)], body).into_response()).await;
        let err = issue(&client(&url, "s"), "inv_1001").await.unwrap_err();
        assert!(matches!(err, VendorError::Malformed(_)), "{body}: {err:?}");
    }
}

/// A vendor whose OAuth endpoint counts its calls and whose init hands out
/// an unsigned token (verification off): only the OAuth cache is tested.
async fn counting_vendor() -> (String, Arc<AtomicUsize>) {
    use axum::routing::post;
    let oauth_calls = Arc::new(AtomicUsize::new(0));
    let counted = oauth_calls.clone();
    let app = axum::Router::new()
        .route(
            "/oauth/token",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async {
                    axum::Json(
                        serde_json::json!({"access_token":"t","token_type":"Bearer","expires_in":3600}),
                    )
                }
            }),
        )
        .route(
            "/v1/checkout-auth/init",
            post(|| async { axum::Json(serde_json::json!({"token": "c", "expires_at": 4_000_000_000u64})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, oauth_calls)
}

#[tokio::test]
async fn s6_a_thousand_concurrent_calls_make_one_oauth_request_cold_and_at_expiry() {
    let (url, oauth_calls) = counting_vendor().await;
    let mut config = config(&url, "s");
    config.jwks_url = None;
    config.requests_per_second = 0; // the quota is not what is tested
    let client = Arc::new(VendorClient::new(config).unwrap());
    let burst = || {
        let client = client.clone();
        async move {
            let calls = (0..1000).map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.checkout_token("cus_acme", "inv_1001").await })
            });
            for call in futures::future::join_all(calls).await {
                call.unwrap().unwrap();
            }
        }
    };
    burst().await;
    assert_eq!(calls(&oauth_calls), 1);
    // At expiry the 1,000 again share one token request.
    client.expire_oauth_token();
    burst().await;
    assert_eq!(calls(&oauth_calls), 2);
}

#[tokio::test]
async fn a_vendor_clock_far_off_ours_changes_no_lifetime() {
    // Behind by more than a token's whole life, then ahead by an hour.
    for offset in [-1_200, 3_600] {
        let running = start_sandbox(Config {
            clock_offset_secs: offset,
            ..Config::in_memory()
        })
        .await;
        let issued = issue(&client(&running.url, "demo_client_secret"), "inv_1001")
            .await
            .unwrap();
        let secs = issued.expires_in.as_secs();
        assert!((895..=900).contains(&secs), "offset {offset}: {secs} s");
    }
}

#[tokio::test]
async fn a_relayed_token_is_verified_against_the_vendor_jwks() {
    // A vendor whose init answers a token signed by nobody it publishes.
    use axum::routing::{get, post};
    let forged =
        "eyJhbGciOiJFZERTQSIsImtpZCI6Im5vYm9keSJ9.eyJjbGllbnRfaWQiOiJkZW1vX2NsaWVudF9pZCJ9.c2ln";
    let app = axum::Router::new()
        .route(
            "/oauth/token",
            post(|| async {
                axum::Json(
                    serde_json::json!({"access_token":"t","token_type":"Bearer","expires_in":3600}),
                )
            }),
        )
        .route(
            "/v1/checkout-auth/init",
            post(move || async move {
                axum::Json(serde_json::json!({"token": forged, "expires_at": 4_000_000_000u64}))
            }),
        )
        .route(
            "/.well-known/jwks.json",
            get(|| async { axum::Json(serde_json::json!({"keys": []})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let err = issue(&client(&url, "s"), "inv_1001").await.unwrap_err();
    assert!(matches!(err, VendorError::Malformed(_)), "{err:?}");
}

/// RFC 8725 §3.11: a token of another kind (`typ`) or from another issuer
/// (`iss`) is not relayed, though its signature verifies.
#[tokio::test]
async fn a_token_of_another_issuer_or_kind_is_not_relayed() {
    let running = start_sandbox(Config::in_memory()).await;
    let expecting = |issuer: &str, typ: &str| {
        VendorClient::new(VendorConfig {
            token_issuer: Some(issuer.to_owned()),
            token_typ: Some(typ.to_owned()),
            ..config(&running.url, "demo_client_secret")
        })
        .unwrap()
    };
    issue(
        &expecting("alternative-sandbox", "checkout+jwt"),
        "inv_1001",
    )
    .await
    .unwrap();
    for (issuer, typ) in [
        ("alternative-elsewhere", "checkout+jwt"),
        ("alternative-sandbox", "JWT"),
    ] {
        let err = issue(&expecting(issuer, typ), "inv_1001")
            .await
            .unwrap_err();
        assert!(
            matches!(err, VendorError::Malformed(_)),
            "{issuer} {typ}: {err:?}"
        );
    }
}

#[tokio::test]
async fn check_is_ready_with_the_vendor_up_and_says_why_not_with_it_down() {
    let running = start_sandbox(Config::in_memory()).await;
    assert!(client(&running.url, "demo_client_secret")
        .check()
        .await
        .is_ok());
    // Nothing listens here any more: no OAuth token can be had.
    let gone = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let error = client(&gone, "demo_client_secret")
        .check()
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
}

/// Every vendor call made for a request carries its id; calls made for no
/// request carry none.
#[tokio::test]
async fn vendor_calls_carry_the_request_id_they_are_made_for() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Option<String>>::new()));
    let recorded = seen.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let id = headers
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        recorded.lock().unwrap().push(id);
        async { StatusCode::SERVICE_UNAVAILABLE }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = client(&url, "demo_client_secret");

    let id = crate::RequestId::new("req-7").unwrap();
    let failed = crate::with_request_id(id, issue(&client, "inv_1001")).await;
    assert!(failed.is_err(), "the stand-in answers 503");
    let with_id = std::mem::take(&mut *seen.lock().unwrap());
    assert!(!with_id.is_empty());
    assert!(
        with_id.iter().all(|id| id.as_deref() == Some("req-7")),
        "{with_id:?}"
    );

    assert!(issue(&client, "inv_1001").await.is_err());
    let without = seen.lock().unwrap().clone();
    assert!(!without.is_empty());
    assert!(without.iter().all(Option::is_none), "{without:?}");
}

#[tokio::test]
async fn settlement_reads_an_invoice_open_then_paid_by_its_payment() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let client = client(&running.url, "demo_client_secret");
    let open = client.settlement("inv_1001", "cus_acme").await.unwrap();
    assert_eq!((open.status.as_str(), open.payment), ("open", None));

    let issued = issue(&client, "inv_1001").await.unwrap();
    let paid: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/checkout/v1/payments", running.url))
        .bearer_auth(issued.token.expose())
        .header("idempotency-key", "settlement-test")
        .json(&serde_json::json!({"payment_method_id": "pm_acme_visa", "amount": "1250.00"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let settled = client.settlement("inv_1001", "cus_acme").await.unwrap();
    assert_eq!(settled.status, "paid");
    let payment = settled.payment.unwrap();
    assert_eq!(payment.payment_id, paid["id"].as_str().unwrap());
    assert_eq!(
        (payment.invoice_id.as_str(), payment.amount.as_str()),
        ("inv_1001", "1250.00")
    );
    assert!(matches!(
        client.settlement("inv_nope", "cus_acme").await,
        Err(VendorError::Rejected { status: 404, .. })
    ));
}

/// Found by a red team: the settlement read took its place in the quota's
/// queue by invoice, so one customer with two invoices held twice the
/// places, and 36 of their calls made another customer's read fail busy.
#[tokio::test]
async fn every_call_a_customer_causes_counts_against_that_customers_places() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let client = client(&running.url, "demo_client_secret");
    let flood = (0..36).map(|n| {
        let invoice = if n % 2 == 0 { "inv_1001" } else { "inv_1002" };
        client.settlement(invoice, "cus_acme")
    });
    let flood = futures::future::join_all(flood);
    let other = async {
        // Behind the flood's first calls, not before them.
        tokio::task::yield_now().await;
        client.settlement("inv_2001", "cus_globex").await
    };
    let (flood, other) = tokio::join!(flood, other);
    let busy = flood
        .iter()
        .filter(|r| matches!(r, Err(VendorError::Busy { .. })))
        .count();
    assert!(busy > 0, "the flood filled the queue");
    assert_eq!(other.unwrap().status, "open");
}

mod fleet;
mod readiness;
