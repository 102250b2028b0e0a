//! S8: every log line of a whole mint flow — the merchant's and the
//! sandbox's, at TRACE — holds neither the client secret, nor an OAuth
//! token, nor the checkout token.
//!
//! A test binary of its own: its subscriber is the process's global one, so
//! no other test's thread can hide a log line from it. (With a thread-local
//! subscriber among parallel tests, a line first logged on another thread
//! could be missed.)

use std::sync::{Arc, Mutex};

use alternative_client::{ClientSecret, VendorClient, VendorConfig};
use merchant::{CheckoutService, InvoiceId, Records, User};
use sandbox::{Config, Sandbox, SystemClock};

/// Collects everything logged.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn service(url: &str, secret: &str, db: &merchant::db::Database) -> CheckoutService {
    let config = VendorConfig::new(url, "demo_client_id", ClientSecret::new(secret));
    CheckoutService::new(
        VendorClient::new(config).unwrap(),
        Records::new(db.pool().clone()),
    )
}

#[tokio::test]
async fn s8_no_log_line_holds_the_secret_or_a_token() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::open(Config::in_memory(), SystemClock)
        .await
        .unwrap();
    tokio::spawn(sandbox.serve(listener, std::future::pending()));
    let db = merchant::db::open_with_demo(&merchant::db::scratch_url().await)
        .await
        .unwrap();
    let alice = User {
        id: 1,
        email: "alice@example.com".into(),
        name: "Alice".into(),
        customer_id: "cus_acme".into(),
    };
    let good = service(&url, "demo_client_secret", &db).await;
    let minted = good
        .mint(&alice, &InvoiceId::parse("inv_1001").unwrap())
        .await
        .unwrap();
    let bad = service(&url, "wrong-secret", &db).await;
    let _ = bad
        .mint(&alice, &InvoiceId::parse("inv_1002").unwrap())
        .await;

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("minted a checkout token"),
        "the flow was logged: {logs}"
    );
    assert!(logs.contains("jti="), "a token's id may be logged");
    for secret in [
        "demo_client_secret",
        "wrong-secret",
        "sbx_oat_",
        minted.token.expose(),
    ] {
        assert!(!logs.contains(secret), "a log line holds {secret:.12}…");
    }
}
