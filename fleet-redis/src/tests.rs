//! The outage rule, on tokio's paused clock: `None` at once while Redis
//! rests, tried again after `RETRY_AFTER`, logged once per `QUIET_FOR`;
//! and a real round trip against the machine's Redis.

use std::sync::atomic::{AtomicBool, Ordering};

use redis::AsyncCommands;

use super::*;

/// Nothing listens on port 1: every connection is refused.
fn unreachable() -> FleetRedis {
    FleetRedis::new("redis://127.0.0.1:1", "test:").unwrap()
}

async fn ping(redis: &FleetRedis, tried: &AtomicBool) -> Option<String> {
    redis
        .run("test", |mut connection| async move {
            tried.store(true, Ordering::SeqCst);
            redis::cmd("PING").query_async(&mut connection).await
        })
        .await
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_redis_answers_none_then_rests_before_it_is_tried_again() {
    let redis = unreachable();
    let tried = AtomicBool::new(false);
    assert_eq!(ping(&redis, &tried).await, None);
    assert!(tried.swap(false, Ordering::SeqCst));
    assert!(redis.take_new_outage(), "the outage's start is told once");
    assert!(!redis.take_new_outage());

    // Resting: not even tried.
    tokio::time::advance(RETRY_AFTER / 2).await;
    assert_eq!(ping(&redis, &tried).await, None);
    assert!(!tried.load(Ordering::SeqCst));

    tokio::time::advance(RETRY_AFTER).await;
    assert_eq!(ping(&redis, &tried).await, None);
    assert!(
        tried.load(Ordering::SeqCst),
        "tried again after RETRY_AFTER"
    );
    assert!(
        !redis.take_new_outage(),
        "still the same outage: it never answered in between"
    );
}

#[tokio::test(start_paused = true)]
async fn a_redis_that_comes_and_goes_is_logged_once_per_quiet_period() {
    let redis = unreachable();
    let logged_at = || redis.state().warned_at;
    redis.failed("refused", "test");
    let first = logged_at().expect("the first outage is logged");
    for _ in 0..20 {
        // Answers, then fails again: twenty outages in forty seconds.
        tokio::time::advance(Duration::from_secs(1)).await;
        redis.answered();
        tokio::time::advance(Duration::from_secs(1)).await;
        redis.failed("refused", "test");
        assert!(redis.take_new_outage(), "each outage is still an outage");
    }
    assert_eq!(logged_at(), Some(first), "none of them logged again");
    tokio::time::advance(QUIET_FOR).await;
    redis.answered();
    redis.failed("refused", "test");
    assert!(logged_at() > Some(first), "a minute later, the next one is");
}

#[tokio::test]
async fn a_reachable_redis_answers_under_the_prefix() {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("test:{}:", std::process::id());
    let redis = FleetRedis::new(&url, &prefix).unwrap();
    let key = redis.key("answer");
    assert!(key.starts_with(&prefix));
    let read = redis
        .run("test", |mut connection| async move {
            let () = connection.set_ex(&key, "42", 10).await?;
            let value: String = connection.get(&key).await?;
            let _: i64 = connection.del(&key).await?;
            Ok(value)
        })
        .await;
    assert_eq!(read.as_deref(), Some("42"));
    assert!(!redis.take_new_outage());
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_is_given_up_or_runs_out() {
    let (one, two) = two_instances();
    let ttl = Duration::from_secs(30);
    let Lease::Held(held) = one.lease("test", "job", ttl).await else {
        panic!("a free lease is taken");
    };
    assert_eq!(two.lease("test", "job", ttl).await, Lease::Elsewhere);
    assert!(one.renew("test", &held, ttl).await);

    // Another instance's token renews and releases nothing.
    let Lease::Held(other) = two.lease("test", "other-job", ttl).await else {
        panic!("another name is another lease");
    };
    let forged = Holder {
        key: held.key.clone(),
        token: other.token.clone(),
    };
    assert!(!two.renew("test", &forged, ttl).await);
    two.release("test", forged).await;
    assert_eq!(two.lease("test", "job", ttl).await, Lease::Elsewhere);

    one.release("test", held).await;
    let Lease::Held(taken) = two.lease("test", "job", ttl).await else {
        panic!("a lease given up is free");
    };
    // Run out (its key gone, as Redis drops it at the end of its time):
    // free again, and the late holder can no longer renew it.
    let key = taken.key.clone();
    let _: Option<i64> = two
        .run("test", |mut c| async move { c.del(key).await })
        .await;
    assert!(!two.renew("test", &taken, ttl).await);
    assert!(matches!(
        one.lease("test", "job", ttl).await,
        Lease::Held(_)
    ));
    two.release("test", other).await;
}

#[tokio::test]
async fn without_redis_nobody_can_say_who_holds_a_lease() {
    let redis = unreachable();
    assert_eq!(
        redis.lease("test", "job", Duration::from_secs(1)).await,
        Lease::Unknown
    );
}

#[tokio::test]
async fn one_instance_fetches_and_publishes_while_the_others_wait_and_read() {
    let (one, two) = two_instances();
    let ttl = Duration::from_secs(30);
    assert_eq!(one.read("test", "value").await, Lookup::Missing);
    let Lease::Held(fetching) = one.lease("test", "value", ttl).await else {
        panic!("the first takes the lease");
    };
    assert_eq!(two.lease("test", "value", ttl).await, Lease::Elsewhere);
    assert_eq!(two.read("test", "value").await, Lookup::Missing);
    one.publish("test", fetching, "value", "42", ttl).await;
    let Lookup::Found((value, lives)) = two.read("test", "value").await else {
        panic!("published");
    };
    assert_eq!(value, "42");
    assert!(lives > Duration::from_secs(29) && lives <= ttl, "{lives:?}");
    // The lease went with the publication: the next fetch may begin.
    assert!(matches!(
        two.lease("test", "value", ttl).await,
        Lease::Held(_)
    ));
    assert_eq!(unreachable().read("test", "value").await, Lookup::Unknown);
}

/// Two instances of one fleet on the machine's Redis, under keys of this
/// test's own.
fn two_instances() -> (FleetRedis, FleetRedis) {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("test:{:016x}:", rand::random::<u64>());
    (
        FleetRedis::new(&url, &prefix).unwrap(),
        FleetRedis::new(&url, &prefix).unwrap(),
    )
}
