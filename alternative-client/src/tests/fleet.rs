//! Several clients sharing one Redis, as the instances of
//! a merchant's fleet do, against the sandbox with its quota on: one OAuth
//! request for all, no call the vendor has to refuse, and each instance on
//! its own share while Redis is away. Needs a Redis server: `TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`; `scripts/test` starts one where none
//! answers). Each test keeps to keys of its own prefix.

use std::time::Duration;

use super::{config, issue, start_sandbox};
use crate::{FleetState, VendorClient, VendorError};

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Keys no other test (or run) uses.
fn prefix() -> String {
    format!("test:{:016x}:", rand::random::<u64>())
}

fn member(url: &str, redis: &str, prefix: &str, instances: u32) -> VendorClient {
    let redis = fleet_redis::FleetRedis::new(redis, prefix).unwrap();
    let shared = FleetState::new(redis, instances).unwrap();
    VendorClient::new(config(url, "demo_client_secret"))
        .unwrap()
        .in_fleet(shared)
}

#[tokio::test]
async fn a_fleet_asks_for_one_oauth_token_and_the_vendor_refuses_none_of_its_calls() {
    // The sandbox allows this API key 5 calls a second, as the real API.
    let vendor = start_sandbox(sandbox::Config::in_memory()).await;
    let prefix = prefix();
    let fleet: Vec<_> = (0..3)
        .map(|_| std::sync::Arc::new(member(&vendor.url, &redis_url(), &prefix, 3)))
        .collect();
    let invoices = ["inv_1001", "inv_1002", "inv_2001"];
    let mints: Vec<_> = (0..30)
        .map(|n| {
            let client = fleet[n % 3].clone();
            let invoice = invoices[n / 3 % 3];
            tokio::spawn(async move { issue(&client, invoice).await })
        })
        .collect();
    let (mut minted, mut busy) = (0, 0);
    for mint in mints {
        match mint.await.unwrap() {
            Ok(_) => minted += 1,
            Err(VendorError::Busy { retry_after }) => {
                assert!(retry_after > Duration::ZERO);
                busy += 1;
            }
            Err(other) => panic!("neither a token nor busy: {other:?}"),
        }
    }
    assert_eq!(minted + busy, 30);
    // A bucket new to Redis starts spent: one at once, then one every
    // 200 ms for the callers' places in the queue.
    assert!(minted >= 3, "{minted} minted, {busy} busy");
    let stats = vendor.sandbox.stats();
    assert_eq!(
        stats.oauth_tokens_issued, 1,
        "one OAuth request for the fleet"
    );
    assert_eq!(stats.rate_limited.total, 0, "{:?}", stats.rate_limited);
    assert_eq!(stats.checkout_tokens_issued, minted);
}

#[tokio::test]
async fn a_token_the_vendor_refused_is_forgotten_by_the_whole_fleet() {
    let vendor = start_sandbox(sandbox::Config::in_memory()).await;
    let prefix = prefix();
    let first = member(&vendor.url, &redis_url(), &prefix, 2);
    issue(&first, "inv_1001").await.unwrap();
    // A second instance reads the fleet's token instead of asking.
    let second = member(&vendor.url, &redis_url(), &prefix, 2);
    issue(&second, "inv_1002").await.unwrap();
    assert_eq!(vendor.sandbox.stats().oauth_tokens_issued, 1);
    // The first instance is told its token is refused: the fleet's goes
    // too, and a third instance asks for a new one.
    let token = first.oauth.get(|| async { unreachable!() }).await.unwrap();
    first.forget_oauth(&token).await;
    let third = member(&vendor.url, &redis_url(), &prefix, 2);
    issue(&third, "inv_2001").await.unwrap();
    assert_eq!(vendor.sandbox.stats().oauth_tokens_issued, 2);
}

#[tokio::test]
async fn without_redis_each_instance_goes_on_with_its_share_of_the_quota() {
    let vendor = start_sandbox(sandbox::Config::in_memory()).await;
    // Nothing listens there: Redis is down from the start. Checkout works.
    let alone = member(&vendor.url, "redis://127.0.0.1:1", &prefix(), 2);
    issue(&alone, "inv_1001").await.unwrap();
    assert_eq!(vendor.sandbox.stats().oauth_tokens_issued, 1);

    // 5 a second shared by 2 instances: 2 each, in bursts of 2 — and a
    // share starts spent (the fleet may have used the whole quota just
    // before Redis went away). Of four callers at once, two wait for their
    // turn (0.5 s and 1 s) and two are told to come back later: their wait
    // would pass the longest, a second. Time is paused from here.
    let other = member(&vendor.url, "redis://127.0.0.1:1", &prefix(), 2);
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let turns = [
        other.turn("a"),
        other.turn("b"),
        other.turn("c"),
        other.turn("d"),
    ];
    let turns = futures::future::join_all(turns).await;
    assert_eq!(turns.iter().filter(|t| t.is_ok()).count(), 2, "{turns:?}");
    // A second, after finding Redis away (its reconnect backs off a little).
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited <= Duration::from_millis(1500),
        "{waited:?}"
    );
}
