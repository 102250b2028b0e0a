//! The fleet drill's last step: Redis up but answering late, under load.
//! A slow Redis is worse than a dead one for a careless client — every
//! request waits on it, and one that gives up and asks the vendor instead
//! turns each late answer into a vendor call. The instances must treat an
//! answer later than their wait (`fleet_redis::REDIS_TIMEOUT`, 250 ms) as
//! an outage: go on alone, on their share of the vendor's quota.

use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::setup;
use drivers::Error;

use super::steps::{mint, stat, steady_mints, Minted, Sent, REDIS_OUTAGE_BOUND};
use super::{Fleet, BALANCER, INSTANCES};
use crate::report::Section;

/// How late Redis answers while slow: more than twice the instances' wait,
/// so that no answer is in time.
const DELAY: Duration = Duration::from_millis(600);

/// The invoices no other step mints, one for each try of [`shares_again`].
pub const FRESH: std::ops::Range<usize> = 200..220;

/// Redis answers every call [`DELAY`] late for 4 s of a 10 s load of 20
/// mints a second, then is quick again: checkout goes on, the mints do not
/// wait on Redis, the vendor refuses at most the outage bound, and the
/// fleet shares its tokens again afterwards.
pub async fn redis_slow(
    http: &reqwest::Client,
    fleet: &Fleet,
    section: &mut Section,
) -> Result<(), Error> {
    let cookies = Arc::new(setup::log_in(http, BALANCER, 10).await?);
    let refused_before = stat(http, &["rate_limited", "total"]).await?;
    let started = Instant::now();
    let load = steady_mints(http, cookies, started, 20, 10, 300).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let slow = started.elapsed();
    fleet.slow_redis(DELAY)?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    fleet.slow_redis(Duration::ZERO)?;
    let quick = started.elapsed();
    let answers = load.await?;
    let refused = stat(http, &["rate_limited", "total"]).await? - refused_before;

    let while_slow: Vec<&Sent> = answers
        .iter()
        .filter(|sent| (slow..quick).contains(&sent.at))
        .collect();
    let tokens = while_slow
        .iter()
        .filter(|sent| matches!(sent.minted, Minted::Token(_)))
        .count();
    let mut took: Vec<Duration> = while_slow.iter().map(|sent| sent.took).collect();
    took.sort();
    let median = took.get(took.len() / 2).copied().unwrap_or_default();
    let slowest = took.last().copied().unwrap_or_default();
    let other: Vec<_> = answers
        .iter()
        .filter(|sent| matches!(sent.minted, Minted::Other(_)))
        .collect();
    section.fact(format!(
        "20 mints a second for 10 s; Redis answering {DELAY:?} late from {slow:.1?} to \
         {quick:.1?}: {} mints sent meanwhile, {tokens} tokens, answers in {median:.0?} \
         (median) to {slowest:.0?}; {refused} calls refused by the vendor",
        while_slow.len()
    ));
    section.check(
        "checkout goes on while Redis is slow (tokens minted, every mint a token or busy)",
        tokens > 0 && other.is_empty(),
        format!("{tokens} tokens; other answers: {other:?}"),
    );
    section.check(
        "the mints did not wait on the slow Redis (median answer under its delay)",
        median < DELAY,
        format!("median {median:?}, delay {DELAY:?}"),
    );
    section.check(
        "the vendor refused at most the documented bound (no storm of fallback calls)",
        refused <= REDIS_OUTAGE_BOUND,
        format!("{refused} refused, bound {REDIS_OUTAGE_BOUND}"),
    );
    shares_again(http, section).await
}

/// Once Redis is quick again, a token minted on one instance is the one
/// the others give for the invoice: polled, since each instance tries
/// Redis again within `fleet_redis::RETRY_AFTER` (1 s) of its last failure.
async fn shares_again(http: &reqwest::Client, section: &mut Section) -> Result<(), Error> {
    let cookie = setup::log_in(http, INSTANCES[0], 1).await?.remove(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut tries = 0;
    // A fresh invoice each try (the drill's other steps mint 1 to 199).
    let shared = loop {
        let invoice = format!("inv_m{:05}", FRESH.start + tries);
        tries += 1;
        let mut tokens = Vec::new();
        for site in INSTANCES {
            tokens.push(mint(http, site, &cookie, &invoice).await);
        }
        let same = matches!(&tokens[0], Minted::Token(_)) && tokens.iter().all(|t| *t == tokens[0]);
        if same || Instant::now() >= deadline || FRESH.start + tries == FRESH.end {
            break same;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    section.check(
        "once Redis is quick again, the instances share one token per invoice again",
        shared,
        format!("{tries} tries"),
    );
    Ok(())
}
