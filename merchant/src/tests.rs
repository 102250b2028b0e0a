//! The merchant side against the real sandbox, over a socket on port 0.

use std::time::Duration;

use sandbox::{Config, Sandbox, SystemClock};

use crate::{CheckoutService, ClientSecret, MintError, Records, User, VendorClient, VendorConfig};

fn user(customer_id: &str) -> User {
    User {
        id: 1,
        email: "someone@example.com".into(),
        name: "Someone".into(),
        customer_id: customer_id.into(),
    }
}

fn id(invoice_id: &str) -> crate::InvoiceId {
    crate::InvoiceId::parse(invoice_id).unwrap()
}

/// Mints as the owner the demo records give each invoice.
async fn mint(
    service: &CheckoutService,
    invoice_id: &str,
) -> Result<crate::MintedToken, MintError> {
    let customer = if invoice_id.starts_with("inv_2") {
        "cus_globex"
    } else {
        "cus_acme"
    };
    service.mint(&user(customer), &id(invoice_id)).await
}

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

async fn service(url: &str, secret: &str) -> CheckoutService {
    service_with(VendorConfig::new(
        url,
        "demo_client_id",
        ClientSecret::new(secret),
    ))
    .await
}

async fn service_with(config: VendorConfig) -> CheckoutService {
    let records = Records::new(
        crate::db::open("sqlite::memory:")
            .await
            .unwrap()
            .pool()
            .clone(),
    );
    CheckoutService::new(VendorClient::new(config).unwrap(), records)
}

#[tokio::test]
async fn mints_a_token_for_a_known_invoice_with_one_oauth_call() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let first = mint(&service, "inv_1001").await.unwrap();
    let second = mint(&service, "inv_2001").await.unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(first.api_url, running.url);
    // The sandbox's lifetime is 900 s; a moment has passed since.
    assert!(first.expires_in <= Duration::from_secs(900));
    assert!(first.expires_in >= Duration::from_secs(890));
    let stats = running.sandbox.stats();
    assert_eq!(stats.oauth_tokens_issued, 1);
    assert_eq!(stats.checkout_tokens_issued, 2);
}

#[tokio::test]
async fn an_unknown_invoice_is_refused_before_the_vendor_is_asked() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    assert!(matches!(
        mint(&service, "inv_9999").await,
        Err(MintError::UnknownInvoice)
    ));
    assert_eq!(running.sandbox.stats().oauth_tokens_issued, 0);
}

#[tokio::test]
async fn wrong_credentials_are_a_refusal_not_an_outage() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "not-the-secret").await;
    let err = mint(&service, "inv_1001").await.unwrap_err();
    assert!(matches!(err, MintError::Refused(_)), "{err:?}");
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
    let service = service(&format!("http://127.0.0.1:{port}"), "demo_client_secret").await;
    let err = mint(&service, "inv_1001").await.unwrap_err();
    assert!(
        matches!(
            err,
            MintError::Vendor(crate::VendorError::Unavailable { .. })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn s5_a_redirect_is_not_followed() {
    use axum::response::Redirect;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app =
        axum::Router::new().fallback(|| async { Redirect::temporary("http://example.invalid/") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let err = mint(&service(&url, "demo_client_secret").await, "inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(err, MintError::Vendor(crate::VendorError::Malformed(_))),
        "{err:?}"
    );
}

/// A stand-in vendor that answers every request with `reply` and counts them.
async fn fake_vendor(
    reply: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
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

fn calls(counter: &std::sync::atomic::AtomicUsize) -> usize {
    counter.load(std::sync::atomic::Ordering::SeqCst)
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
    let mut config = VendorConfig::new(&url, "demo_client_id", ClientSecret::new("s"));
    config.total_timeout = Duration::from_millis(100);
    let err = mint(&service_with(config).await, "inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(err, MintError::Vendor(crate::VendorError::Unavailable { ref reason, .. }) if reason == "timed out"),
        "{err:?}"
    );
}

#[tokio::test]
async fn s2_a_5xx_is_retried_twice_then_reported_unavailable() {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let (url, counter) = fake_vendor(|| StatusCode::SERVICE_UNAVAILABLE.into_response()).await;
    let err = mint(&service(&url, "s").await, "inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MintError::Vendor(crate::VendorError::Unavailable { .. })
        ),
        "{err:?}"
    );
    assert_eq!(calls(&counter), 3);

    let (url, counter) =
        fake_vendor(|| (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response())
            .await;
    let err = mint(&service(&url, "s").await, "inv_1001")
        .await
        .unwrap_err();
    assert!(matches!(err, MintError::Vendor(_)), "{err:?}");
    assert_eq!(calls(&counter), 3);
}

#[tokio::test]
async fn s3_a_revoked_oauth_token_is_dropped_refetched_and_retried_once() {
    let mut config = Config::in_memory();
    config.faults.oauth_revoke_rate = 1.0;
    let running = start_sandbox(config).await;
    let err = mint(
        &service(&running.url, "demo_client_secret").await,
        "inv_1001",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            MintError::Refused(crate::VendorError::Rejected { status: 401, .. })
        ),
        "{err:?}"
    );
    let stats = running.sandbox.stats();
    assert_eq!(stats.oauth_tokens_issued, 2, "one refetch, no more");
}

#[tokio::test]
async fn s4_nonsense_from_the_vendor_is_a_parse_error() {
    use axum::response::IntoResponse;
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
        let err = mint(&service(&url, "s").await, "inv_1001")
            .await
            .unwrap_err();
        assert!(
            matches!(err, MintError::Vendor(crate::VendorError::Malformed(_))),
            "{body}: {err:?}"
        );
    }
}

#[tokio::test]
async fn s6_a_thousand_concurrent_mints_make_one_oauth_request_cold_and_at_expiry() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let service = std::sync::Arc::new(service(&running.url, "demo_client_secret").await);
    let invoices = ["inv_1001", "inv_1002", "inv_2001"];
    let burst = || {
        let service = service.clone();
        async move {
            let mints = (0..1000).map(|i| {
                let service = service.clone();
                tokio::spawn(async move { mint(&service, invoices[i % 3]).await })
            });
            for mint in futures::future::join_all(mints).await {
                mint.unwrap().unwrap();
            }
        }
    };
    burst().await;
    let stats = running.sandbox.stats();
    assert_eq!(stats.oauth_tokens_issued, 1);
    // Concurrent mints of one invoice share one vendor call.
    assert_eq!(stats.checkout_tokens_issued, 3);

    // At OAuth expiry, with no checkout token left to reuse, every mint
    // needs the vendor — and the 1,000 still share one token request.
    service.vendor().expire_oauth_token();
    service.forget_minted();
    burst().await;
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 6);
    assert_eq!(running.sandbox.stats().oauth_tokens_issued, 2);
}

#[tokio::test]
async fn a_token_with_most_of_its_life_left_is_reused_with_its_remaining_lifetime() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let first = mint(&service, "inv_1001").await.unwrap();
    let again = mint(&service, "inv_1001").await.unwrap();
    assert_eq!(first.token, again.token);
    assert!(again.expires_in <= first.expires_in);
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 1);
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
        let service = service(&running.url, "demo_client_secret").await;
        let minted = mint(&service, "inv_1001").await.unwrap();
        let secs = minted.expires_in.as_secs();
        assert!((895..=900).contains(&secs), "offset {offset}: {secs} s");
    }
}

#[tokio::test]
async fn a_reused_token_needs_no_database_read_and_only_its_customer_gets_it() {
    let running = start_sandbox(Config::in_memory()).await;
    let db = crate::db::open("sqlite::memory:").await.unwrap();
    let pool = db.pool().clone();
    let service = CheckoutService::new(
        VendorClient::new(VendorConfig::new(
            &running.url,
            "demo_client_id",
            ClientSecret::new("demo_client_secret"),
        ))
        .unwrap(),
        Records::new(pool.clone()),
    );
    let first = mint(&service, "inv_1001").await.unwrap();
    // Another customer naming the same invoice is still checked, and refused.
    assert!(matches!(
        service.mint(&user("cus_globex"), &id("inv_1001")).await,
        Err(MintError::UnknownInvoice)
    ));

    pool.close().await;
    let again = mint(&service, "inv_1001").await.unwrap();
    assert_eq!(again.token, first.token);
    // A mint that does need the records finds the database gone.
    assert!(matches!(
        mint(&service, "inv_1002").await,
        Err(MintError::Storage)
    ));
}

#[tokio::test]
async fn a_relayed_token_is_verified_against_the_vendor_jwks() {
    // A vendor whose init answers a token signed by nobody it publishes.
    use axum::response::IntoResponse;
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
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
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"keys": []})).into_response()
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let err = mint(&service(&url, "s").await, "inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(err, MintError::Vendor(crate::VendorError::Malformed(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn s7_another_users_invoice_is_refused_before_the_vendor_is_asked() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let bob = user("cus_globex");
    assert!(matches!(
        service.mint(&bob, &id("inv_1001")).await,
        Err(MintError::UnknownInvoice)
    ));
    assert_eq!(running.sandbox.stats().oauth_tokens_issued, 0);
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 0);
    let invoices = service.invoices_of(&bob).await.unwrap();
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].invoice_number, "INV-2001");
}

#[tokio::test]
async fn the_server_reads_the_invoice_with_the_pages_token_and_no_extra_mint() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let invoice = service
        .invoice(&user("cus_acme"), &id("inv_1002"))
        .await
        .unwrap();
    assert_eq!(invoice.invoice_number, "INV-1002");
    assert_eq!(invoice.total, "310.40");
    assert_eq!(invoice.status, "open");
    // The page's mint then reuses that token.
    mint(&service, "inv_1002").await.unwrap();
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 1);
}

/// RFC 8725 §3.11: a token of another kind (`typ`) or from another issuer
/// (`iss`) is not relayed, though its signature verifies.
#[tokio::test]
async fn a_token_of_another_issuer_or_kind_is_not_relayed() {
    let running = start_sandbox(Config::in_memory()).await;
    let config = |issuer: &str, typ: &str| VendorConfig {
        token_issuer: Some(issuer.to_owned()),
        token_typ: Some(typ.to_owned()),
        ..VendorConfig::new(
            &running.url,
            "demo_client_id",
            ClientSecret::new("demo_client_secret"),
        )
    };
    let sandbox_like = service_with(config("alternative-sandbox", "checkout+jwt")).await;
    mint(&sandbox_like, "inv_1001").await.unwrap();
    for (issuer, typ) in [
        ("alternative-elsewhere", "checkout+jwt"),
        ("alternative-sandbox", "JWT"),
    ] {
        let strict = service_with(config(issuer, typ)).await;
        let err = mint(&strict, "inv_1001").await.unwrap_err();
        assert!(
            matches!(err, MintError::Vendor(crate::VendorError::Malformed(_))),
            "{issuer} {typ}: {err:?}"
        );
    }
}
