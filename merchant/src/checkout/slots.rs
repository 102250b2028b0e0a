//! This instance's last token per customer and invoice, its "slots". A
//! slot's mutex is held while minting, which is what makes concurrent mints
//! of one invoice share one vendor call; its token is handed out again
//! while it has more life left than its reuse floor ([`reuse_floor`]).
//! The map is bounded ([`MAX_SLOTS`]): the stale go first, and a slot in
//! use never.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use alternative_client::IssuedCheckoutToken;
use tokio::time::Instant;

/// Past this many slots, some are forgotten ([`make_room`]).
const MAX_SLOTS: usize = 10_000;

/// A customer id and an invoice id.
pub(super) type Key = (String, String);

/// The last token minted for one customer and invoice. Its mutex is held
/// while minting, which is what makes concurrent mints share one call.
#[derive(Default)]
pub(super) struct Slot {
    pub(super) current: tokio::sync::Mutex<Option<Recent>>,
}

impl Slot {
    /// A mint holds it (the map holds one reference; a mint, another).
    fn in_use(self: &Arc<Self>) -> bool {
        Arc::strong_count(self) > 1
    }

    fn holds_reusable(&self) -> bool {
        self.current.try_lock().map_or(true, |current| {
            current.as_ref().is_some_and(Recent::reusable)
        })
    }
}

#[derive(Clone)]
pub(super) struct Recent {
    pub(super) issued: IssuedCheckoutToken,
    pub(super) minted_at: Instant,
    /// The life left below which it is not handed out again.
    pub(super) reuse_floor: Duration,
}

impl Recent {
    /// `issued`, minted just now, with a reuse floor of its own.
    pub(super) fn minted(issued: IssuedCheckoutToken) -> Self {
        Self {
            reuse_floor: reuse_floor(issued.expires_in),
            issued,
            minted_at: Instant::now(),
        }
    }

    pub(super) fn remaining(&self) -> Duration {
        self.issued
            .expires_in
            .saturating_sub(self.minted_at.elapsed())
    }

    /// Worth handing out again: more life left than its floor.
    pub(super) fn reusable(&self) -> bool {
        self.remaining() > self.reuse_floor
    }
}

/// How much of its `lifetime` a token has left when it stops being handed
/// out again: between three eighths and a half, drawn for each token (the
/// page gets minutes of a token of 900 s either way). The draw is so that
/// tokens minted together (a campaign's mail, a restart, a benchmark's
/// start) are not minted again together, a burst of vendor calls that
/// queues behind the CPU and the vendor's quota. Spread over an eighth of
/// the lifetime (112 s of a token of 900), 10,000 tokens minted in the
/// same 12 s come due at about 80 a second instead of 830 (BENCHMARKS.md,
/// "The 10-minute soak"). Lower, not higher, than a half: a token is
/// minted again no sooner than before, and the vendor's quota pays nothing
/// more.
pub(super) fn reuse_floor(lifetime: Duration) -> Duration {
    lifetime.mul_f64(0.5 - rand::random::<f64>() / 8.0)
}

/// Every slot of this instance.
#[derive(Default)]
pub(super) struct Slots(Mutex<HashMap<Key, Arc<Slot>>>);

impl Slots {
    /// The slot of `key`, made (after making room) if there is none.
    pub(super) fn get_or_make(&self, key: Key) -> Arc<Slot> {
        let mut slots = self.map();
        if !slots.contains_key(&key) {
            make_room(&mut slots, MAX_SLOTS);
        }
        slots.entry(key).or_default().clone()
    }

    /// The slot of `key`, if there is one.
    pub(super) fn get(&self, key: &Key) -> Option<Arc<Slot>> {
        self.map().get(key).cloned()
    }

    /// `key`'s token, if it is still worth handing out.
    pub(super) async fn reusable(&self, key: &Key) -> Option<Recent> {
        let slot = self.get(key)?;
        let current = slot.current.lock().await;
        current.as_ref().filter(|recent| recent.reusable()).cloned()
    }

    /// Forgets `key`'s token if its id is `refused_id`, or not known (no
    /// JWKS to read it with: one more vendor call is cheaper than a page
    /// handed a refused token in a loop). A different id means a newer
    /// token is there already, and it stays.
    pub(super) async fn forget_refused(&self, key: &Key, refused_id: &str) {
        let Some(slot) = self.get(key) else {
            return;
        };
        let mut current = slot.current.lock().await;
        let refused = current.as_ref().is_some_and(|recent| {
            recent
                .issued
                .jti
                .as_deref()
                .is_none_or(|jti| jti == refused_id)
        });
        if refused {
            *current = None;
            tracing::info!(jti = %refused_id, "forgot a checkout token the vendor refused");
        }
    }

    /// Forgets every slot of `invoice_id`, whoever it was minted for.
    pub(super) fn forget_invoice(&self, invoice_id: &str) {
        self.map().retain(|(_, invoice), _| invoice != invoice_id);
    }

    fn map(&self) -> MutexGuard<'_, HashMap<Key, Arc<Slot>>> {
        // Each change is one insert, remove or retain: a panic elsewhere
        // while holding the lock leaves the map whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps the map under `max` slots. First the slots whose token is no longer
/// worth handing out go; if that frees too little, every idle one (its token
/// is lost, not leaked: only this map holds an idle slot). Freeing at least
/// a tenth each time keeps the scan rare: at most one per `max / 10` new keys.
fn make_room(slots: &mut HashMap<Key, Arc<Slot>>, max: usize) {
    if slots.len() < max {
        return;
    }
    slots.retain(|_, slot| slot.in_use() || slot.holds_reusable());
    if slots.len() > max * 9 / 10 {
        slots.retain(|_, slot| slot.in_use());
    }
}

#[cfg(test)]
mod tests {
    use alternative_client::CheckoutToken;

    use super::*;

    fn slot(minted_secs_ago: u64) -> Arc<Slot> {
        let recent = Recent {
            issued: IssuedCheckoutToken {
                token: CheckoutToken::new("t"),
                expires_in: Duration::from_secs(10),
                jti: None,
            },
            minted_at: Instant::now() - Duration::from_secs(minted_secs_ago),
            reuse_floor: Duration::from_secs(5),
        };
        Arc::new(Slot {
            current: tokio::sync::Mutex::new(Some(recent)),
        })
    }

    fn key(n: usize) -> Key {
        ("cus".into(), format!("inv_{n}"))
    }

    #[tokio::test]
    async fn a_full_map_forgets_stale_tokens_first_and_keeps_reusable_ones() {
        let mut slots: HashMap<Key, Arc<Slot>> = HashMap::new();
        for n in 0..50 {
            slots.insert(key(n), slot(1)); // fresh: worth handing out again
        }
        for n in 50..100 {
            slots.insert(key(n), slot(6)); // past its floor: half its life
        }
        make_room(&mut slots, 100);
        assert_eq!(slots.len(), 50);
        assert!((0..50).all(|n| slots.contains_key(&key(n))));
    }

    #[tokio::test]
    async fn when_every_token_is_fresh_the_idle_slots_go_but_never_one_in_use() {
        let mut slots: HashMap<Key, Arc<Slot>> = (0..100).map(|n| (key(n), slot(1))).collect();
        let in_use = slots[&key(7)].clone();
        make_room(&mut slots, 100);
        assert_eq!(slots.len(), 1);
        assert!(Arc::ptr_eq(&slots[&key(7)], &in_use));
    }

    #[test]
    fn each_token_stops_being_reused_between_three_eighths_and_half_its_life() {
        let lifetime = Duration::from_secs(800);
        let floors: Vec<Duration> = (0..1000).map(|_| reuse_floor(lifetime)).collect();
        assert!(floors
            .iter()
            .all(|floor| (Duration::from_secs(300)..=Duration::from_secs(400)).contains(floor)));
        // Spread over the range, not one point: the lowest and the highest
        // eighths of it are both drawn (each misses 1,000 draws with
        // probability 0.875^1000, about 1e-58).
        assert!(floors.iter().any(|floor| *floor < Duration::from_secs(312)));
        assert!(floors.iter().any(|floor| *floor > Duration::from_secs(387)));
    }

    #[tokio::test]
    async fn below_the_limit_nothing_is_scanned_or_dropped() {
        let mut slots: HashMap<Key, Arc<Slot>> = (0..99).map(|n| (key(n), slot(6))).collect();
        make_room(&mut slots, 100);
        assert_eq!(slots.len(), 99);
    }
}
