//! A readiness probe costs the vendor at most one call per probe interval,
//! whatever the outcome: a balancer probing every second, or anyone on the
//! internet calling `/readyz`, must not turn into OAuth requests while the
//! vendor refuses them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sandbox::{Config, Sandbox, SystemClock};

use super::{calls, config};
use crate::{VendorClient, PROBE_INTERVAL};

/// The sandbox in this process, counting the OAuth requests it is sent
/// (accepted or refused: its own stats count only the tokens it issues).
async fn sandbox_counting_oauth() -> (String, Arc<AtomicUsize>) {
    let sandbox = Sandbox::open(Config::in_memory(), SystemClock)
        .await
        .unwrap();
    let oauth_calls = Arc::new(AtomicUsize::new(0));
    let counted = oauth_calls.clone();
    let app = sandbox.router().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            if request.uri().path() == "/oauth/token" {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            next.run(request)
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, oauth_calls)
}

#[tokio::test]
async fn probes_while_the_vendor_refuses_oauth_ask_it_once_per_interval() {
    let (url, oauth_calls) = sandbox_counting_oauth().await;
    // A secret the vendor does not know: every OAuth request is refused.
    let client = Arc::new(VendorClient::new(config(&url, "not-the-secret")).unwrap());

    // Ten at once share one check; ten more after it reuse its outcome.
    let together = (0..10).map(|_| {
        let client = client.clone();
        async move { client.check().await }
    });
    for outcome in futures::future::join_all(together).await {
        assert!(outcome.is_err());
    }
    for _ in 0..10 {
        assert!(client.check().await.is_err());
    }
    assert_eq!(calls(&oauth_calls), 1, "20 probes within one interval");

    // The interval passes (tokio's clock, moved; real time again after, for
    // the HTTP call): the next probe asks the vendor once more.
    tokio::time::pause();
    tokio::time::advance(PROBE_INTERVAL).await;
    tokio::time::resume();
    assert!(client.check().await.is_err());
    assert!(client.check().await.is_err());
    assert_eq!(calls(&oauth_calls), 2);
}
