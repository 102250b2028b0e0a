//! Per-invoice token reuse and single flight for a fleet, in Redis: the
//! token one instance minted for an invoice is handed out again by every
//! instance while it has most of its life, and while one instance asks
//! the vendor for an invoice's token the others wait for it. A recorded
//! payment or a refused token is forgotten by the whole fleet at once.
//!
//! One key per invoice holds the token with its customer (checked on every
//! read: the entry exists only because an instance found the invoice to be
//! that customer's) and expires when the token stops being worth handing
//! out. The token is a credential for paying that one invoice: Redis must
//! be as private as the database.

use std::sync::LazyLock;
use std::time::Duration;

use alternative_client::{CheckoutToken, IssuedCheckoutToken};
use redis::Script;
use serde::{Deserialize, Serialize};

use crate::fleet::{CountedRun, FleetRedis};

/// How long one instance may hold the right to mint an invoice's token:
/// the vendor call's timeout with its quota wait. If it dies, another
/// takes over after this.
pub const MINT_LOCK: Duration = Duration::from_secs(10);

#[derive(Serialize, Deserialize)]
struct Stored {
    customer_id: String,
    token: String,
    jti: Option<String>,
    /// The lifetime it had when minted, in ms: "most of its life" is half.
    lifetime_ms: u64,
}

/// A token another instance (or this one) minted, as it is now.
pub struct Shared {
    pub issued: IssuedCheckoutToken,
    /// The lifetime it had when minted.
    pub lifetime: Duration,
}

#[derive(Clone)]
pub struct SharedTokens {
    redis: FleetRedis,
}

impl SharedTokens {
    pub fn new(redis: FleetRedis) -> Self {
        Self { redis }
    }

    fn key(&self, invoice_id: &str) -> String {
        self.redis.key(&format!("checkout-token:{invoice_id}"))
    }

    /// The fleet's reusable token for `customer_id`'s `invoice_id`:
    /// `Some(None)` if there is none, `None` if Redis cannot say.
    pub async fn reusable(&self, customer_id: &str, invoice_id: &str) -> Option<Option<Shared>> {
        let key = self.key(invoice_id);
        let (value, ttl): (Option<String>, i64) = self
            .redis
            .counted("tokens", |mut redis| async move {
                READ.key(key).invoke_async(&mut redis).await
            })
            .await?;
        let stored = value
            .and_then(|value| serde_json::from_str::<Stored>(&value).ok())
            .filter(|stored| stored.customer_id == customer_id && ttl > 0);
        Some(stored.map(|stored| {
            let lifetime = Duration::from_millis(stored.lifetime_ms);
            Shared {
                issued: IssuedCheckoutToken {
                    token: CheckoutToken::new(stored.token),
                    // Stored until half its life was left: that half, and
                    // what remains of the key's time.
                    expires_in: lifetime / 2 + Duration::from_millis(ttl as u64),
                    jti: stored.jti,
                },
                lifetime,
            }
        }))
    }

    /// Takes the fleet's right to mint `invoice_id`'s token for
    /// [`MINT_LOCK`]: `Some(Some(holder))` if this instance has it,
    /// `Some(None)` if another does, `None` if Redis is down.
    pub async fn lock(&self, invoice_id: &str) -> Option<Option<String>> {
        let key = self.key(&format!("{invoice_id}:lock"));
        let holder = format!("{:016x}", rand::random::<u64>());
        let mine = holder.clone();
        let taken: Option<String> = self
            .redis
            .counted("tokens", |mut redis| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(mine)
                    .arg("NX")
                    .arg("PX")
                    .arg(MINT_LOCK.as_millis() as u64)
                    .query_async(&mut redis)
                    .await
            })
            .await?;
        Some(taken.map(|_| holder))
    }

    /// Stores `issued` (just minted, of `lifetime`) for the fleet until
    /// half its life is left, and gives up the right to mint.
    pub async fn store(
        &self,
        customer_id: &str,
        invoice_id: &str,
        issued: &IssuedCheckoutToken,
        holder: &str,
    ) {
        let stored = Stored {
            customer_id: customer_id.to_owned(),
            token: issued.token.expose().to_owned(),
            jti: issued.jti.clone(),
            lifetime_ms: issued.expires_in.as_millis() as u64,
        };
        let Ok(value) = serde_json::to_string(&stored) else {
            return;
        };
        let keep_ms = (issued.expires_in / 2).as_millis().max(1) as u64;
        let (key, lock) = (
            self.key(invoice_id),
            self.key(&format!("{invoice_id}:lock")),
        );
        let holder = holder.to_owned();
        let _: Option<i64> = self
            .redis
            .counted("tokens", |mut redis| async move {
                STORE
                    .key(key)
                    .key(lock)
                    .arg(value)
                    .arg(keep_ms)
                    .arg(holder)
                    .invoke_async(&mut redis)
                    .await
            })
            .await;
    }

    /// Gives up the right to mint (the vendor call failed), if still held.
    pub async fn unlock(&self, invoice_id: &str, holder: &str) {
        let lock = self.key(&format!("{invoice_id}:lock"));
        let holder = holder.to_owned();
        let _: Option<i64> = self
            .redis
            .counted("tokens", |mut redis| async move {
                UNLOCK.key(lock).arg(holder).invoke_async(&mut redis).await
            })
            .await;
    }

    /// Forgets `invoice_id`'s token for the whole fleet: if `jti` is given,
    /// only while that token (or one whose id is not known) is the one held.
    pub async fn forget(&self, invoice_id: &str, jti: Option<&str>) {
        let key = self.key(invoice_id);
        let jti = jti.unwrap_or("").to_owned();
        let _: Option<i64> = self
            .redis
            .counted("tokens", |mut redis| async move {
                FORGET.key(key).arg(jti).invoke_async(&mut redis).await
            })
            .await;
    }
}

static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new("return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}")
});

/// KEYS: the token, the lock. ARGV: the stored value, ms to keep, holder.
static STORE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
",
    )
});

static UNLOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
});

/// ARGV[1]: a refused token's id, or '' to forget whatever is held.
static FORGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[1] == '' then return redis.call('DEL', KEYS[1]) end
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local stored = cjson.decode(value)
if stored.jti == nil or stored.jti == cjson.null or stored.jti == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});
