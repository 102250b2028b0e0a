//! The sandbox as a process: served over a real socket, its records and its
//! signing key kept across a restart, and reset to its seed.

use axum::http::StatusCode;

use super::{harness, pay_1001, Harness, NOW};
use crate::{Config, ManualClock, Sandbox};

#[tokio::test]
async fn serves_over_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sandbox = Sandbox::open(Config::in_memory(), crate::SystemClock)
        .await
        .unwrap();
    let server = tokio::spawn(sandbox.serve(listener, async {
        let _ = stopped.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /sandbox/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"oauth_tokens_issued\":0"));

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_payment_and_the_signing_key_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("sandbox-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = || Config {
        database_url: format!("sqlite://{}/sandbox.db", dir.display()),
        ..Config::in_memory()
    };
    let clock = ManualClock::starting_at(NOW);
    let (token, first_id) = {
        let sandbox = Sandbox::open(config(), clock.clone()).await.unwrap();
        let h = Harness {
            router: sandbox.router(),
            clock: clock.clone(),
            sandbox,
        };
        let token = h.checkout_token("cus_acme", "inv_1001").await;
        let paid = h.pay(&token, Some("restart-key"), pay_1001()).await;
        assert_eq!(paid.status, StatusCode::CREATED);
        h.sandbox.store.pool().close().await;
        (token, paid.body["id"].clone())
    };
    let sandbox = Sandbox::open(config(), clock.clone()).await.unwrap();
    let h = Harness {
        router: sandbox.router(),
        clock,
        sandbox,
    };
    // The token still verifies (same key), the invoice is still paid, and the
    // retried request gets the same payment back.
    assert_eq!(h.get_invoice(&token).await.body["status"], "paid");
    let replay = h.pay(&token, Some("restart-key"), pay_1001()).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.body["id"], first_id);
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 1);
    h.sandbox.store.pool().close().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn reset_restores_the_seed() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    h.pay(&token, Some("k"), pay_1001()).await;
    let reset = h.control("/sandbox/reset").await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get_invoice(&token).await.body["status"], "open");
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 0);
}
