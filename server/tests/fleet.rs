//! Two instances of a fleet, wired by `server::wiring` as `main` wires
//! them, on one database, one vendor and one Redis (`TEST_REDIS_URL`, keys
//! of this test's own): a log-out on one ends the session on the other at
//! once, and the fleet mints one token per invoice.

mod support;

use fleet_redis::FleetRedis;
use server::wiring::FleetLink;
use support::*;

fn fleet() -> FleetLink {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("test:{:016x}:", rand::random::<u64>());
    FleetLink {
        redis: FleetRedis::new(&url, &prefix).unwrap(),
        instances: 2,
    }
}

async fn two_instances() -> (TestSite, axum::Router) {
    let options = Options {
        fleet: Some(fleet()),
        ..Options::default()
    };
    let first = start_with(options.clone()).await;
    let second = beside(&first, &options);
    (first, second)
}

#[tokio::test]
async fn a_log_out_on_one_instance_ends_the_session_on_the_other_at_once() {
    let (first, second) = two_instances().await;
    let alice = log_in(&first.app, ALICE, None).await;
    assert!(whoami(&second, &alice).await.contains("alice@example.com"));
    let out = call(&first.app, post("/api/logout", "", Some(&alice))).await;
    assert!(out.status().is_success() || out.status().is_redirection());
    // No wait for the second instance's copy to go stale: it asks Redis.
    assert_eq!(whoami(&second, &alice).await, "null");
}

#[tokio::test]
async fn the_fleet_mints_one_token_per_invoice() {
    let (first, second) = two_instances().await;
    let alice = log_in(&first.app, ALICE, None).await;
    let mint = |app: axum::Router| {
        let alice = alice.clone();
        async move {
            let answer = call(
                &app,
                post("/api/checkout/token", "invoice_id=inv_1001", Some(&alice)),
            )
            .await;
            let body: serde_json::Value = serde_json::from_str(&text(answer).await).unwrap();
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let (one, two) = tokio::join!(mint(first.app.clone()), mint(second.clone()));
    assert_eq!(one, two);
    assert_eq!(first.sandbox.stats().checkout_tokens_issued, 1);
}
