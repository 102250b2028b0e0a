//! Per-invoice token reuse and single flight for a fleet, in Redis: the
//! token one instance minted for an invoice is handed out again by every
//! instance while it has more life left than its reuse floor (drawn by
//! the instance that minted it), and while one instance asks the vendor
//! for an invoice's token the others wait for it. A recorded
//! payment or a refused token is forgotten by the whole fleet at once.
//!
//! One key per invoice holds the token with its customer (checked on every
//! read: the entry exists only because an instance found the invoice to be
//! that customer's) and expires when the token stops being worth handing
//! out; the single flight is `fleet_redis`'s lease, published with the
//! token. The token is a credential for paying that one invoice: Redis must
//! be as private as the database.

use std::sync::LazyLock;
use std::time::Duration;

use alternative_client::{CheckoutToken, IssuedCheckoutToken};
use fleet_redis::{Holder, Lease, Lookup};
use redis::Script;
use serde::{Deserialize, Serialize};

use crate::fleet::FleetRedis;

/// How long one instance may hold the right to mint an invoice's token:
/// the vendor call's timeout with its quota wait. If it dies, another
/// takes over after this.
pub const MINT_LOCK: Duration = Duration::from_secs(10);

#[derive(Serialize, Deserialize)]
struct Stored {
    customer_id: String,
    token: String,
    jti: Option<String>,
    /// The lifetime it had when minted, in ms.
    lifetime_ms: u64,
    /// The life it has left when its key expires, in ms (`slots::reuse_floor`).
    /// Absent from what an instance of an earlier version stored, whose floor
    /// was half the lifetime.
    #[serde(default)]
    reuse_floor_ms: Option<u64>,
}

/// An invoice's token as one read of its key found it: the value and its
/// key's time left, or nothing there.
#[derive(Debug)]
pub struct TokenRead(Option<(String, Duration)>);

impl TokenRead {
    /// What a read of the key answered: the value (`None`: no key) and
    /// its ms to live (as `PTTL`: negative for no key or no expiry).
    pub(crate) fn read(value: Option<String>, pttl: i64) -> Self {
        let ttl = u64::try_from(pttl).ok().filter(|&ms| ms > 0);
        Self(value.zip(ttl.map(Duration::from_millis)))
    }
}

/// A token another instance (or this one) minted, as it is now.
pub struct FleetToken {
    pub issued: IssuedCheckoutToken,
    /// The lifetime it had when minted.
    pub lifetime: Duration,
    /// The life left below which it is not handed out again.
    pub reuse_floor: Duration,
}

#[derive(Clone)]
pub struct FleetTokens {
    redis: FleetRedis,
}

impl FleetTokens {
    pub fn new(redis: FleetRedis) -> Self {
        Self { redis }
    }

    /// The key of `invoice_id`'s token (under the fleet's prefix).
    pub(crate) fn name(invoice_id: &str) -> String {
        format!("checkout-token:{invoice_id}")
    }

    /// The fleet's reusable token for `customer_id`'s `invoice_id`.
    pub async fn reusable(&self, customer_id: &str, invoice_id: &str) -> Lookup<FleetToken> {
        match self.redis.read("tokens", &Self::name(invoice_id)).await {
            Lookup::Found(found) => Self::parse(customer_id, found),
            Lookup::Missing => Lookup::Missing,
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    /// The token a read made elsewhere found (`crate::gate`), if it is
    /// `customer_id`'s.
    pub fn from_read(customer_id: &str, read: TokenRead) -> Lookup<FleetToken> {
        match read.0 {
            Some(found) => Self::parse(customer_id, found),
            None => Lookup::Missing,
        }
    }

    /// A stored token (its value and what is left of its key's time), if
    /// it is `customer_id`'s.
    fn parse(customer_id: &str, (value, ttl): (String, Duration)) -> Lookup<FleetToken> {
        let Some(stored) = serde_json::from_str::<Stored>(&value)
            .ok()
            .filter(|stored| stored.customer_id == customer_id)
        else {
            return Lookup::Missing;
        };
        let lifetime = Duration::from_millis(stored.lifetime_ms);
        let reuse_floor = stored
            .reuse_floor_ms
            .map_or(lifetime / 2, Duration::from_millis);
        Lookup::Found(FleetToken {
            issued: IssuedCheckoutToken {
                token: CheckoutToken::new(stored.token),
                // Stored until its floor was left: that, and what remains
                // of the key's time.
                expires_in: reuse_floor + ttl,
                jti: stored.jti,
            },
            lifetime,
            reuse_floor,
        })
    }

    /// The fleet's right to mint `invoice_id`'s token, for [`MINT_LOCK`].
    pub async fn lock(&self, invoice_id: &str) -> Lease {
        self.redis
            .lease("tokens", &Self::name(invoice_id), MINT_LOCK)
            .await
    }

    /// Stores `issued` (just minted) for the fleet until only `reuse_floor`
    /// of its life is left, and gives up the right to mint.
    pub async fn store(
        &self,
        customer_id: &str,
        invoice_id: &str,
        issued: &IssuedCheckoutToken,
        reuse_floor: Duration,
        holder: Holder,
    ) {
        let stored = Stored {
            customer_id: customer_id.to_owned(),
            token: issued.token.expose().to_owned(),
            jti: issued.jti.clone(),
            lifetime_ms: issued.expires_in.as_millis() as u64,
            reuse_floor_ms: Some(reuse_floor.as_millis() as u64),
        };
        let Ok(value) = serde_json::to_string(&stored) else {
            return;
        };
        let keep = issued
            .expires_in
            .saturating_sub(reuse_floor)
            .max(Duration::from_millis(1));
        self.redis
            .publish("tokens", holder, &Self::name(invoice_id), &value, keep)
            .await;
    }

    /// Gives up the right to mint (the vendor call failed).
    pub async fn unlock(&self, holder: Holder) {
        self.redis.release("tokens", holder).await;
    }

    /// Forgets `invoice_id`'s token for the whole fleet: if `jti` is given,
    /// only while that token (or one whose id is not known) is the one held.
    pub async fn forget(&self, invoice_id: &str, jti: Option<&str>) {
        let key = self.redis.key(&Self::name(invoice_id));
        let jti = jti.unwrap_or("").to_owned();
        let _: Option<i64> = self
            .redis
            .run("tokens", |mut redis| async move {
                FORGET.key(key).arg(jti).invoke_async(&mut redis).await
            })
            .await;
    }
}

/// `ARGV[1]`: a refused token's id, or '' to forget whatever is held.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn found(value: &str, pttl_ms: i64) -> FleetToken {
        let read = TokenRead::read(Some(value.to_owned()), pttl_ms);
        match FleetTokens::from_read("cus_a", read) {
            Lookup::Found(token) => token,
            _ => panic!("the stored token is cus_a's"),
        }
    }

    #[test]
    fn a_stored_token_hands_out_its_floor_and_the_rest_of_its_keys_time() {
        let value = r#"{"customer_id":"cus_a","token":"t","jti":"ct_1","lifetime_ms":900000,"reuse_floor_ms":400000}"#;
        let token = found(value, 300_000);
        assert_eq!(token.reuse_floor, Duration::from_secs(400));
        assert_eq!(token.issued.expires_in, Duration::from_secs(700));
    }

    #[test]
    fn a_token_an_earlier_version_stored_has_half_its_life_as_floor() {
        // Written by an instance from before the floor was drawn, during a
        // rolling deploy: its key expired at half the lifetime.
        let value = r#"{"customer_id":"cus_a","token":"t","jti":"ct_1","lifetime_ms":900000}"#;
        let token = found(value, 300_000);
        assert_eq!(token.reuse_floor, Duration::from_secs(450));
        assert_eq!(token.issued.expires_in, Duration::from_secs(750));
    }
}
