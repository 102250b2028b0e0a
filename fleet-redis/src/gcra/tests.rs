//! The Lua script against the Rust model, call by call, on a clock the
//! test sets: the same decisions for every shape of limit (refusing,
//! queueing with places, starting spent), every caller and every pace.

use std::collections::HashMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn redis(prefix: &str) -> FleetRedis {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    FleetRedis::new(&url, prefix).unwrap()
}

/// The limits under test: the vendor quota's shape (5/s, burst 4, 1 s of
/// queue, 2 places, starting spent), the merchant's per-session limit
/// (60/min, burst 20, refusing) and a strict one (burst 1, no queue).
fn limits() -> [Gcra; 3] {
    let quota_interval = Duration::from_millis(200);
    [
        Gcra {
            interval: quota_interval,
            tolerance: quota_interval * 3,
            max_wait: Duration::from_secs(1),
            places: 2,
            starts_spent: true,
        },
        Gcra::refusing(60, Duration::from_secs(60), 20),
        Gcra::refusing(5, Duration::from_secs(1), 1),
    ]
}

#[tokio::test]
async fn the_script_decides_as_the_model_does() {
    let prefix = format!("test:{:016x}:", rand::random::<u64>());
    let redis = redis(&prefix);
    for (n, limit) in limits().iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(n as u64);
        let key = format!("gcra-{n}");
        let mut tat = None;
        let mut places: HashMap<&str, Vec<u64>> = HashMap::new();
        let mut now = 1_000_000u64;
        let (mut went, mut waited, mut refused) = (0, 0, 0);
        for call in 0..400 {
            // Bursts and lulls: mostly quick calls, now and then a pause.
            now += match rng.random_range(0..10) {
                0 => rng.random_range(500..3_000),
                _ => rng.random_range(0..120),
            };
            let caller = ["alice", "bob", "carol"][rng.random_range(0..3)];
            let queue = format!("gcra-{n}:{caller}");
            let held = places.entry(caller).or_default();
            let (model, next) = limit.decide(tat, now, held);
            let script = redis
                .gcra_at("test", limit, &key, &queue, Some(now))
                .await
                .expect("the test's Redis answers");
            assert_eq!(script, model, "limit {n}, call {call} at {now} by {caller}");
            if let Decision::Go { wait } = model {
                tat = next;
                went += 1;
                if !wait.is_zero() {
                    waited += 1;
                    held.retain(|&goes| goes > now);
                    held.push(now + wait.as_millis() as u64);
                }
            } else {
                refused += 1;
            }
        }
        // Every branch of the rule was taken.
        assert!(
            went > 0 && refused > 0,
            "limit {n}: {went} went, {refused} refused"
        );
        if limit.places > 0 {
            assert!(waited > 0, "limit {n}: none waited");
        }
    }
    clear(&redis, &prefix).await;
}

#[tokio::test]
async fn a_refund_gives_one_call_back_and_a_clear_key_says_so() {
    let prefix = format!("test:{:016x}:", rand::random::<u64>());
    let redis = redis(&prefix);
    let limit = Gcra::refusing(60, Duration::from_secs(60), 1);
    assert_eq!(redis.gcra_is_clear("test", "k").await, Some(true));
    let go = redis.gcra("test", &limit, "k", "k:places").await;
    assert!(matches!(go, Some(Decision::Go { .. })), "{go:?}");
    assert_eq!(redis.gcra_is_clear("test", "k").await, Some(false));
    let refused = redis.gcra("test", &limit, "k", "k:places").await;
    assert!(
        matches!(refused, Some(Decision::Refuse { .. })),
        "{refused:?}"
    );
    assert!(redis.gcra_refund("test", &limit, "k").await);
    let again = redis.gcra("test", &limit, "k", "k:places").await;
    assert!(matches!(again, Some(Decision::Go { .. })), "{again:?}");
    clear(&redis, &prefix).await;
}

#[test]
fn the_model_goes_in_a_burst_then_at_the_rate_and_refuses_past_its_wait() {
    let limit = Gcra {
        interval: Duration::from_millis(200),
        tolerance: Duration::from_millis(600),
        max_wait: Duration::from_millis(400),
        places: 2,
        starts_spent: false,
    };
    let (mut tat, mut places) = (None, Vec::new());
    let mut waits = Vec::new();
    for _ in 0..7 {
        match limit.decide(tat, 0, &places) {
            (Decision::Go { wait }, next) => {
                tat = next;
                if !wait.is_zero() {
                    places.push(wait.as_millis() as u64);
                }
                waits.push(wait.as_millis() as u64);
            }
            (Decision::Refuse { retry_after }, _) => {
                waits.push(10_000 + retry_after.as_millis() as u64)
            }
        }
    }
    // Four at once (the burst), two queued 200 and 400 ms out (its two
    // places), then one refused: 600 ms is past the longest wait.
    assert_eq!(waits, [0, 0, 0, 0, 200, 400, 10_600]);
}

async fn clear(redis: &FleetRedis, prefix: &str) {
    let pattern = format!("{prefix}*");
    let _: Option<()> = redis
        .run("test", |mut c| async move {
            let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(&mut c).await?;
            if !keys.is_empty() {
                redis::cmd("DEL")
                    .arg(keys)
                    .query_async::<()>(&mut c)
                    .await?;
            }
            Ok(())
        })
        .await;
}
