//! The merchant side against the real sandbox, over a socket on port 0.

use std::time::Duration;

use sandbox::{Config, Sandbox, SystemClock};

use crate::{CheckoutService, ClientSecret, MintError, Records, VendorClient, VendorConfig};

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

fn service(url: &str, secret: &str) -> CheckoutService {
    let vendor = VendorClient::new(VendorConfig {
        api_url: url.to_owned(),
        client_id: "demo_client_id".into(),
        client_secret: ClientSecret::new(secret),
    })
    .unwrap();
    CheckoutService::new(vendor, Records::demo())
}

#[tokio::test]
async fn mints_a_token_for_a_known_invoice_with_one_oauth_call() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret");
    let first = service.mint("inv_1001").await.unwrap();
    let second = service.mint("inv_2001").await.unwrap();
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
    let service = service(&running.url, "demo_client_secret");
    assert!(matches!(
        service.mint("inv_9999").await,
        Err(MintError::UnknownInvoice)
    ));
    assert_eq!(running.sandbox.stats().oauth_tokens_issued, 0);
}

#[tokio::test]
async fn wrong_credentials_are_a_refusal_not_an_outage() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "not-the-secret");
    let err = service.mint("inv_1001").await.unwrap_err();
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
    let service = service(&format!("http://127.0.0.1:{port}"), "demo_client_secret");
    let err = service.mint("inv_1001").await.unwrap_err();
    assert!(
        matches!(err, MintError::Vendor(crate::VendorError::Unavailable(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    use axum::response::Redirect;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app =
        axum::Router::new().fallback(|| async { Redirect::temporary("http://example.invalid/") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let err = service(&url, "demo_client_secret")
        .mint("inv_1001")
        .await
        .unwrap_err();
    assert!(
        matches!(err, MintError::Vendor(crate::VendorError::Malformed(_))),
        "{err:?}"
    );
}
