//! A lease: the right, for a while, to be the one instance of the fleet
//! doing something, held under one key. Taken with `SET NX PX`; kept, and
//! given up, only by its holder (a Lua script compares the holder's token
//! first), so an instance that outlived its lease never cuts short the next
//! holder's. If the holder dies the lease ends by itself when its time is
//! up.
//!
//! Two uses: a background job one instance at a time (the merchant's
//! catch-up), and single flight — one instance fetches a value the whole
//! fleet needs (the vendor's OAuth token, an invoice's checkout token) while
//! the others wait and [`FleetRedis::read`] it, published with the lease
//! given up in one step ([`FleetRedis::publish`]).

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use crate::{FleetRedis, Lookup};

/// Whether this instance holds the lease, as far as Redis can say.
#[derive(Debug, PartialEq, Eq)]
pub enum Lease {
    /// This instance holds it until its time is up (or it is given up).
    Held(Holder),
    /// Another instance holds it.
    Elsewhere,
    /// Redis cannot say (down, or slow): the caller decides alone.
    Unknown,
}

/// Proof of holding a lease: the token stored under its key.
#[derive(Debug, PartialEq, Eq)]
pub struct Holder {
    pub(crate) key: String,
    pub(crate) token: String,
}

impl FleetRedis {
    /// Takes the lease `name` for `ttl`, if no instance holds it.
    pub async fn lease(&self, part: &'static str, name: &str, ttl: Duration) -> Lease {
        let key = self.key(&format!("lease:{name}"));
        let token = format!("{:032x}", rand::random::<u128>());
        let taken: Option<Option<String>> = self
            .run(part, |mut redis| {
                let (key, token) = (key.clone(), token.clone());
                async move {
                    redis::cmd("SET")
                        .arg(key)
                        .arg(token)
                        .arg("NX")
                        .arg("PX")
                        .arg(millis(ttl))
                        .query_async(&mut redis)
                        .await
                }
            })
            .await;
        match taken {
            Some(Some(_)) => Lease::Held(Holder { key, token }),
            Some(None) => Lease::Elsewhere,
            None => Lease::Unknown,
        }
    }

    /// Makes `holder`'s lease last `ttl` from now; `false` if it is no
    /// longer held by it (it ran out and another took it) or Redis cannot
    /// say.
    pub async fn renew(&self, part: &'static str, holder: &Holder, ttl: Duration) -> bool {
        let renewed: Option<i64> = self
            .run(part, |mut redis| async move {
                RENEW
                    .key(&holder.key)
                    .arg(&holder.token)
                    .arg(millis(ttl))
                    .invoke_async(&mut redis)
                    .await
            })
            .await;
        renewed == Some(1)
    }

    /// Gives the lease up now, if `holder` still holds it.
    pub async fn release(&self, part: &'static str, holder: Holder) {
        let _: Option<i64> = self
            .run(part, |mut redis| async move {
                RELEASE
                    .key(&holder.key)
                    .arg(&holder.token)
                    .invoke_async(&mut redis)
                    .await
            })
            .await;
    }
}

impl FleetRedis {
    /// The value stored under `name`, and how long it lives on.
    pub async fn read(&self, part: &'static str, name: &str) -> Lookup<(String, Duration)> {
        let key = self.key(name);
        let read: Option<(Option<String>, i64)> = self
            .run(part, |mut redis| async move {
                READ.key(key).invoke_async(&mut redis).await
            })
            .await;
        match read {
            None => Lookup::Unknown,
            Some((Some(value), ttl)) if ttl > 0 => {
                Lookup::Found((value, Duration::from_millis(ttl as u64)))
            }
            Some(_) => Lookup::Missing,
        }
    }

    /// Stores `value` under `name` for `ttl` and gives up `holder`'s lease
    /// (if it still holds it), in one step: the instances waiting on the
    /// lease find the value as soon as they may take it.
    pub async fn publish(
        &self,
        part: &'static str,
        holder: Holder,
        name: &str,
        value: &str,
        ttl: Duration,
    ) {
        let key = self.key(name);
        let _: Option<i64> = self
            .run(part, |mut redis| async move {
                PUBLISH
                    .key(key)
                    .key(&holder.key)
                    .arg(value)
                    .arg(millis(ttl))
                    .arg(&holder.token)
                    .invoke_async(&mut redis)
                    .await
            })
            .await;
    }
}

fn millis(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new("return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}")
});

/// KEYS: the value, the lease. ARGV: the value, its ms to live, the holder.
static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
",
    )
});

static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
           return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
    )
});

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
           return redis.call('DEL', KEYS[1]) end return 0",
    )
});
