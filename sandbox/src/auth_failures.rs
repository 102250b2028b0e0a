//! Brute-force protection for client authentication at `POST /oauth/token`.
//!
//! RFC 6749 §2.3.1: an authorization server that takes client passwords
//! "MUST protect any endpoint utilizing it against brute force attacks".
//! Failed authentications are limited per client address, per claimed client
//! id and per (address, client id) pair, and the limit is checked *before*
//! the secret is: a request over it tests no guess. Its allowance is reserved
//! up front (so a thousand concurrent guesses cannot all slip in before the
//! first one fails) and given back when the secret turns out right.
//!
//! A client at an address it has authenticated from (a known pair) is
//! charged to that pair's allowance alone: neither guessers elsewhere
//! (the client id's allowance) nor guessers behind the same address trying
//! other ids (the address's) can keep it from its token. Guessing stays
//! bounded, because a pair becomes known only by a correct secret and its
//! allowance is checked before the secret like any other:
//! - at one address, a guesser gets the address's allowance for every id
//!   not known there, plus one pair's allowance (the same size) for each
//!   client that authenticated from there in the last day — clients it
//!   cannot add to;
//! - at one client id, guessers get the id's allowance across every address
//!   not known for it, plus one pair's allowance per address the client
//!   itself authenticated from.
//!
//! What this leaves: a guesser behind the client's own address that claims
//! the client's own id is, until the secret is checked, the client. It
//! spends that pair's allowance and the client waits with it. Telling them
//! apart would mean checking secrets past the limit, the unbounded guessing
//! this module exists to stop.
//!
//! Nothing here depends on whether the client id exists: an unknown id is
//! charged and answered exactly as a known one with a wrong secret, so the
//! limiter tells a guesser nothing the `invalid_client` answer does not.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use crate::limits::RateLimiter;

/// Per address: 10 failures at once (a client with a mistyped secret and a
/// retry loop), then one every 6 s (10 a minute, 14,400 a day). Stricter than
/// the client id's: it is what a guesser at one address meets first.
const ADDRESS_BURST: u32 = 10;
const ADDRESS_PER_SEC: f64 = 1.0 / 6.0;

/// Per client id, across all addresses: 20 failures at once, then one a
/// second. It only slows: a guesser spread over many addresses gets at most
/// ~86,400 guesses a day at one client, which a random secret of 128 bits or
/// more shrugs off. A guesser at one address can never empty it alone (its
/// own limit is half the burst and a sixth of the rate), and addresses this
/// client has authenticated from are not charged to it (below), so a guesser
/// elsewhere can slow a client's first authentication from a new address,
/// never lock the client out of the addresses it uses.
const CLIENT_BURST: u32 = 20;
const CLIENT_PER_SEC: f64 = 1.0;

/// Per (address, client id) pair: the same as an address. An unknown pair's
/// failures are charged here too, so a pair that becomes known (a correct
/// secret among a guesser's failures) brings no fresh allowance with it.
const PAIR_BURST: u32 = ADDRESS_BURST;
const PAIR_PER_SEC: f64 = ADDRESS_PER_SEC;

/// How long an address stays known for a client after its last successful
/// authentication: a day outlasts any OAuth token's lifetime, so a client that
/// authenticates once per token never falls out of it.
const KNOWN_FOR_MILLIS: u64 = 24 * 3600 * 1000;
/// Known (client, address) pairs kept before expired ones are forgotten; only
/// a correct secret adds one, so a guesser cannot grow it.
const PRUNE_KNOWN_ABOVE: usize = 10_000;

pub struct AuthFailureLimiter {
    per_address: RateLimiter,
    per_client: RateLimiter,
    per_pair: RateLimiter,
    /// (client id, address key) → until when the address is known for it.
    known: Mutex<HashMap<(String, String), u64>>,
}

/// One authentication's reserved allowance: kept if it fails, given back
/// (with [`AuthFailureLimiter::succeeded`] or [`AuthFailureLimiter::did_not_count`])
/// if it does not.
#[must_use]
pub struct Attempt {
    address: String,
    pair: String,
    /// The client id, when the address's and the client id's allowances were
    /// charged too: `None` for a known pair, charged to the pair alone.
    client: Option<String>,
}

impl Default for AuthFailureLimiter {
    fn default() -> Self {
        Self {
            per_address: RateLimiter::with_burst(ADDRESS_BURST, ADDRESS_PER_SEC),
            per_client: RateLimiter::with_burst(CLIENT_BURST, CLIENT_PER_SEC),
            per_pair: RateLimiter::with_burst(PAIR_BURST, PAIR_PER_SEC),
            known: Mutex::default(),
        }
    }
}

impl AuthFailureLimiter {
    /// Before the secret is checked: reserves one failure from the pair's
    /// allowance alone if `address` is known for this client, else from the
    /// address's, the client id's and the pair's. `Err` holds the seconds to
    /// wait (for `Retry-After`).
    pub fn begin(
        &self,
        client_id: &str,
        address: Option<IpAddr>,
        now_millis: u64,
    ) -> Result<Attempt, u64> {
        let address = address_key(address);
        let pair = pair_key(client_id, &address);
        if self.is_known(client_id, &address, now_millis) {
            self.per_pair.take(&pair, now_millis)?;
            return Ok(Attempt {
                address,
                pair,
                client: None,
            });
        }
        self.per_address.take(&address, now_millis)?;
        let client = client_id.to_owned();
        let taken = self.per_client.take(&client, now_millis).and_then(|()| {
            self.per_pair
                .take(&pair, now_millis)
                .inspect_err(|_| self.per_client.give_back(&client))
        });
        if let Err(wait) = taken {
            self.per_address.give_back(&address);
            return Err(wait);
        }
        Ok(Attempt {
            address,
            pair,
            client: Some(client),
        })
    }

    /// The secret was right: no failure, and the address is known for this
    /// client from now on.
    pub fn succeeded(&self, attempt: Attempt, client_id: &str, now_millis: u64) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() > PRUNE_KNOWN_ABOVE {
            known.retain(|_, until| *until > now_millis);
        }
        known.insert(
            (client_id.to_owned(), attempt.address.clone()),
            now_millis + KNOWN_FOR_MILLIS,
        );
        drop(known);
        self.did_not_count(attempt);
    }

    /// Neither success nor failure (the sandbox's own storage failed).
    pub fn did_not_count(&self, attempt: Attempt) {
        self.per_pair.give_back(&attempt.pair);
        if let Some(client) = &attempt.client {
            self.per_address.give_back(&attempt.address);
            self.per_client.give_back(client);
        }
    }

    fn is_known(&self, client_id: &str, address: &str, now_millis: u64) -> bool {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(&(client_id.to_owned(), address.to_owned()))
            .is_some_and(|until| *until > now_millis)
    }
}

/// The pair's bucket. An address key holds no space, so the first space
/// ends it whatever the claimed client id holds.
fn pair_key(client_id: &str, address: &str) -> String {
    format!("{address} {client_id}")
}

/// The bucket an address is counted in. IPv6 by /64, the block one
/// subscriber is usually given: counting single IPv6 addresses would hand a
/// guesser 2^64 allowances. Without a peer address (a router served without
/// connect info, as in `oneshot` tests) every request shares one bucket:
/// stricter, never looser. `X-Forwarded-For` is never read: the sandbox
/// stands behind no proxy, and anyone can send that header.
fn address_key(address: Option<IpAddr>) -> String {
    match address.map(|a| a.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{prefix}/64")
        }
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn one_ipv6_subscriber_is_one_address_and_a_mapped_ipv4_is_its_ipv4() {
        assert_eq!(address_key(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_eq!(
            address_key(ip("2001:db8:1:2:ffff::9")),
            address_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), "192.0.2.7");
        assert_eq!(address_key(None), "unknown");
    }

    #[test]
    fn guessing_from_rotating_ipv6_addresses_of_one_block_shares_one_allowance() {
        let limiter = AuthFailureLimiter::default();
        for i in 0..ADDRESS_BURST {
            let address = ip(&format!("2001:db8::{i:x}"));
            let _failed = limiter.begin("victim", address, 0).unwrap();
        }
        assert!(limiter.begin("victim", ip("2001:db8::ffff"), 0).is_err());
    }

    #[test]
    fn a_known_pair_is_charged_to_its_own_allowance_alone() {
        let limiter = AuthFailureLimiter::default();
        let attempt = limiter.begin("client", ip("192.0.2.1"), 0).unwrap();
        limiter.succeeded(attempt, "client", 0);
        // Guessers at that address trying other ids empty the address's allowance…
        for i in 0..ADDRESS_BURST {
            let _failed = limiter
                .begin(&format!("id{i}"), ip("192.0.2.1"), 0)
                .unwrap();
        }
        assert_eq!(limiter.begin("other", ip("192.0.2.1"), 0).err(), Some(6));
        // …and guessers elsewhere the client id's.
        for i in 0..CLIENT_BURST {
            let _failed = limiter
                .begin("client", ip(&format!("198.51.100.{i}")), 0)
                .unwrap();
        }
        assert_eq!(limiter.begin("client", ip("203.0.113.1"), 0).err(), Some(1));
        // The pair still has its whole allowance, and no more.
        for _ in 0..PAIR_BURST {
            let _failed = limiter.begin("client", ip("192.0.2.1"), 0).unwrap();
        }
        assert_eq!(limiter.begin("client", ip("192.0.2.1"), 0).err(), Some(6));
    }

    #[test]
    fn a_correct_secret_gives_its_reservation_back() {
        let limiter = AuthFailureLimiter::default();
        for _ in 0..100 {
            let attempt = limiter.begin("client", ip("192.0.2.1"), 0).unwrap();
            limiter.succeeded(attempt, "client", 0);
        }
    }

    #[test]
    fn storage_failures_are_not_counted_as_guesses() {
        let limiter = AuthFailureLimiter::default();
        for _ in 0..100 {
            let attempt = limiter.begin("client", ip("192.0.2.1"), 0).unwrap();
            limiter.did_not_count(attempt);
        }
    }
}
