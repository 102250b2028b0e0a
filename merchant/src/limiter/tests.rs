//! The limits on one instance (tokio's paused clock) and shared by a
//! fleet (the machine's Redis): bursts, refunds, and log-ins that slow a
//! guesser without locking the owner out.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_burst_then_the_steady_rate_per_key() {
    let limiter = KeyedLimiter::per_minute(60, 3);
    for _ in 0..3 {
        limiter.check("a").await.unwrap();
    }
    assert_eq!(limiter.check("a").await, Err(Duration::from_secs(1)));
    limiter.check("b").await.unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    limiter.check("a").await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn refunded_requests_do_not_count() {
    let limiter = KeyedLimiter::per_minute(60, 2);
    for _ in 0..10 {
        limiter.check("a").await.unwrap();
        limiter.refund("a").await;
    }
    limiter.check("a").await.unwrap();
    limiter.check("a").await.unwrap();
    assert!(limiter.check("a").await.is_err());
}

fn login() -> LoginLimits {
    Limits::default().login
}

#[tokio::test(start_paused = true)]
async fn a_guesser_at_one_address_is_held_to_five_tries_then_one_every_12_s() {
    let limits = login();
    for _ in 0..5 {
        drop(
            limits
                .attempt("bob@example.com", "addr:attacker")
                .await
                .unwrap(),
        );
    }
    let wait = limits
        .attempt("bob@example.com", "addr:attacker")
        .await
        .err();
    assert_eq!(wait, Some(Duration::from_secs(12)));
    tokio::time::advance(Duration::from_secs(12)).await;
    drop(
        limits
            .attempt("bob@example.com", "addr:attacker")
            .await
            .unwrap(),
    );
    assert!(limits
        .attempt("bob@example.com", "addr:attacker")
        .await
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn guesses_from_elsewhere_do_not_lock_the_owner_out() {
    let limits = login();
    // Five addresses spend the account's limit…
    for n in 0..5 {
        drop(
            limits
                .attempt("bob@example.com", &format!("addr:{n}"))
                .await
                .unwrap(),
        );
    }
    // …so every one of them that tries again is refused…
    assert!(limits.attempt("bob@example.com", "addr:0").await.is_err());
    // …but the owner, at an address with no failure, is still checked.
    limits
        .attempt("bob@example.com", "addr:owner")
        .await
        .unwrap()
        .succeeded()
        .await;
    limits
        .attempt("bob@example.com", "addr:owner")
        .await
        .unwrap()
        .succeeded()
        .await;
    // A wrong password there makes that address a failing one too.
    drop(
        limits
            .attempt("bob@example.com", "addr:owner")
            .await
            .unwrap(),
    );
    assert!(limits
        .attempt("bob@example.com", "addr:owner")
        .await
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn successful_log_ins_count_against_nothing() {
    let limits = login();
    for _ in 0..100 {
        limits
            .attempt("alice@example.com", "addr:a")
            .await
            .unwrap()
            .succeeded()
            .await;
    }
    assert!(limits.per_address.is_clear("addr:a").await);
}

#[tokio::test]
async fn a_fleet_shares_its_limits_so_more_instances_give_a_guesser_no_more_tries() {
    let (url, prefix) = crate::fleet::test_redis();
    let redis = FleetRedis::new(&url, &prefix).unwrap();
    let [a, b, c] = std::array::from_fn(|_| Limits::default().in_fleet(&redis).login);
    // Five tries spread over three instances…
    for limits in [&a, &b, &c, &a, &b] {
        drop(
            limits
                .attempt("bob@example.com", "addr:attacker")
                .await
                .unwrap(),
        );
    }
    // …and the sixth is refused on every one of them.
    for limits in [&a, &b, &c] {
        let wait = limits
            .attempt("bob@example.com", "addr:attacker")
            .await
            .err();
        assert!(
            wait.is_some_and(|w| w > Duration::from_secs(10)),
            "{wait:?}"
        );
    }
    // The owner, at an address with no failure, still gets in.
    c.attempt("bob@example.com", "addr:owner")
        .await
        .unwrap()
        .succeeded()
        .await;
    // Redis holds hashes, never the email or the address.
    let mut connection = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| !k.contains("bob@") && !k.contains("addr:")),
        "{keys:?}"
    );
}
