//! The fleet drill's steps, in order; each adds its facts and checks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::setup;
use drivers::Error;
use serde_json::json;

use super::{Fleet, BALANCER, INSTANCES, SANDBOX};
use crate::report::Section;

/// How many calls the vendor may refuse for one Redis outage: the fleet's
/// documented bound (the book, `docs/src/fleet.md`), the per-second
/// quota.
pub(super) const REDIS_OUTAGE_BOUND: u64 = 5;

/// The invoice the first step pays: no mint after it may use it.
const PAID: &str = "inv_m00000";

/// What the merchant answered one mint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Minted {
    Token(String),
    /// 503 with `Retry-After`: over the quota, come back then.
    Busy,
    /// Any other answer's status, or 0 for none at all.
    Other(u16),
}

pub(super) async fn mint(
    http: &reqwest::Client,
    site: &str,
    cookie: &str,
    invoice: &str,
) -> Minted {
    let sent = http
        .post(format!("http://{site}/api/checkout/token"))
        .header("cookie", cookie)
        .form(&[("invoice_id", invoice)])
        .send()
        .await;
    let Ok(response) = sent else {
        return Minted::Other(0);
    };
    let status = response.status().as_u16();
    if status == 503 && response.headers().contains_key("retry-after") {
        return Minted::Busy;
    }
    match response.json::<serde_json::Value>().await {
        Ok(body) if status == 200 => Minted::Token(body["token"].as_str().unwrap_or("").into()),
        _ => Minted::Other(status),
    }
}

/// The `n`th of the 199 open invoices (`inv_m00001`…).
pub(super) fn invoice(n: usize) -> String {
    format!("inv_m{:05}", 1 + n % 199)
}

pub(super) async fn stat(http: &reqwest::Client, path: &[&str]) -> Result<u64, Error> {
    let stats = setup::sandbox_stats(http, SANDBOX).await?;
    Ok(path
        .iter()
        .fold(&stats, |v, key| &v[key])
        .as_u64()
        .unwrap_or(0))
}

/// Log in through one instance, mint through the second, pay, reconcile
/// through the third: the session and the records are the fleet's.
pub async fn across_instances(http: &reqwest::Client, section: &mut Section) -> Result<(), Error> {
    let cookie = setup::log_in(http, INSTANCES[0], 1).await?.remove(0);
    let token = match mint(http, INSTANCES[1], &cookie, PAID).await {
        Minted::Token(token) => token,
        other => return Err(format!("mint on the second instance: {other:?}").into()),
    };
    let paid = http
        .post(format!("http://{SANDBOX}/checkout/v1/payments"))
        .bearer_auth(&token)
        .header("idempotency-key", "fleet-drill-across-instances")
        .json(&json!({"payment_method_id": "pm_acme_visa", "amount": "10.00"}))
        .send()
        .await?
        .status();
    let reconciled = http
        .post(format!("http://{}/api/checkout/reconcile", INSTANCES[2]))
        .header("cookie", &cookie)
        .form(&[("invoice_id", PAID)])
        .send()
        .await?;
    let reconciled = (reconciled.status().as_u16(), reconciled.text().await?);
    section.check(
        "logged in on one instance, minted on another, paid, reconciled on the third",
        paid.as_u16() == 201 && reconciled == (200, "true".to_owned()),
        format!("payment {paid}, reconcile {reconciled:?}"),
    );
    Ok(())
}

/// A thousand mints at once through the balancer, over 200 invoices and 20
/// sessions.
pub async fn thousand_mints(http: &reqwest::Client, section: &mut Section) -> Result<(), Error> {
    let cookies = setup::log_in(http, BALANCER, 20).await?;
    let refused_before = stat(http, &["rate_limited", "total"]).await?;
    let mints: Vec<_> = (0..1_000)
        .map(|n| {
            let (http, cookie) = (http.clone(), cookies[n % cookies.len()].clone());
            tokio::spawn(async move { mint(&http, BALANCER, &cookie, &invoice(n)).await })
        })
        .collect();
    let (mut tokens, mut busy, mut other) = (0, 0, Vec::new());
    for minted in mints {
        match minted.await? {
            Minted::Token(_) => tokens += 1,
            Minted::Busy => busy += 1,
            Minted::Other(status) => other.push(status),
        }
    }
    let oauth = stat(http, &["oauth_tokens_issued"]).await?;
    let refused = stat(http, &["rate_limited", "total"]).await? - refused_before;
    section.fact(format!(
        "1,000 concurrent mints through the balancer: {tokens} tokens, {busy} busy (503 with \
         Retry-After), {} otherwise",
        other.len()
    ));
    section.check(
        "every mint answered with a token or busy",
        other.is_empty(),
        format!("other answers: {other:?}"),
    );
    section.check(
        "one OAuth request for the whole fleet since it started",
        oauth == 1,
        format!("{oauth} OAuth tokens issued"),
    );
    section.check(
        "the vendor refused none of the fleet's calls (no 429)",
        refused == 0,
        format!("{refused} refused"),
    );
    Ok(())
}

/// Log out on one instance: the next mint on each is refused at once.
pub async fn log_out_everywhere(
    http: &reqwest::Client,
    section: &mut Section,
) -> Result<(), Error> {
    let cookie = setup::log_in(http, INSTANCES[0], 1).await?.remove(0);
    // Every instance holds a fresh copy of the session.
    for site in INSTANCES {
        mint(http, site, &cookie, &invoice(1)).await;
    }
    let logged_out = http
        .post(format!("http://{}/api/logout", INSTANCES[1]))
        .header("cookie", &cookie)
        .send()
        .await?
        .status();
    let mut after = Vec::new();
    for site in INSTANCES {
        after.push(mint(http, site, &cookie, &invoice(1)).await);
    }
    section.check(
        "after a log-out on one instance, the next mint on every instance is refused at once",
        after.iter().all(|m| *m == Minted::Other(401)),
        format!("log-out {logged_out}; then {after:?}"),
    );
    Ok(())
}

/// One mint of [`steady_mints`]: when it was sent (since the load
/// started), how long its answer took, and what it was.
#[derive(Debug)]
pub(super) struct Sent {
    pub at: Duration,
    pub took: Duration,
    pub minted: Minted,
}

/// Mints at `per_second` through the balancer for `seconds`.
pub(super) async fn steady_mints(
    http: &reqwest::Client,
    cookies: Arc<Vec<String>>,
    started: Instant,
    per_second: u32,
    seconds: u64,
    first_invoice: usize,
) -> tokio::task::JoinHandle<Vec<Sent>> {
    let http = http.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(1) / per_second);
        let mut sent = Vec::new();
        let mut n = first_invoice;
        while started.elapsed() < Duration::from_secs(seconds) {
            ticks.tick().await;
            let (http, cookie) = (http.clone(), cookies[n % cookies.len()].clone());
            let invoice = invoice(n);
            let at = started.elapsed();
            sent.push(tokio::spawn(async move {
                let minted = mint(&http, BALANCER, &cookie, &invoice).await;
                let took = started.elapsed() - at;
                Sent { at, took, minted }
            }));
            n += 1;
        }
        let mut answers = Vec::new();
        for mint in sent {
            if let Ok(answer) = mint.await {
                answers.push(answer);
            }
        }
        answers
    })
}

/// SIGKILL one instance under load, restart it: the balancer routes
/// around it, and it serves again.
pub async fn instance_killed(
    http: &reqwest::Client,
    fleet: &mut Fleet,
    section: &mut Section,
) -> Result<(), Error> {
    let cookies = Arc::new(setup::log_in(http, BALANCER, 10).await?);
    let started = Instant::now();
    let load = steady_mints(http, cookies, started, 50, 8, 0).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some(mut instance) = fleet.instances[2].take() {
        instance.kill();
    }
    // Reaped: nothing sent from now on can reach it.
    let killed_at = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    fleet.instances[2] = Some(fleet.spawn(http, 2).await?);
    let log = fleet.access_log();
    let served_before = std::fs::read_to_string(&log)?.lines().count();
    let answers = load.await?;
    // Then enough mints for round robin to reach every instance.
    let cookie = setup::log_in(http, BALANCER, 1).await?.remove(0);
    for n in 0..30 {
        mint(http, BALANCER, &cookie, &invoice(n)).await;
    }
    let served_after = std::fs::read_to_string(&log)?
        .lines()
        .skip(served_before)
        .filter(|line| line.contains(INSTANCES[2]) && line.starts_with("200"))
        .count();
    let failed: Vec<_> = answers
        .iter()
        .filter(|sent| matches!(sent.minted, Minted::Other(_)))
        .collect();
    section.fact(format!(
        "50 mints a second for 8 s through the balancer; the third instance SIGKILLed at \
         {killed_at:.1?} and restarted 2 s later: {} mints, {} failed",
        answers.len(),
        failed.len()
    ));
    section.check(
        "only mints already sent to the killed instance failed (none sent after the kill)",
        failed.iter().all(|sent| sent.at <= killed_at),
        format!("failed: {failed:?}"),
    );
    section.check(
        "the restarted instance serves mints through the balancer again",
        served_after > 0,
        format!("{served_after} answered by it afterwards"),
    );
    Ok(())
}

/// Kill Redis under load and start it again (empty): mints go on, and the
/// vendor refuses at most the documented bound.
pub async fn redis_restarted(
    http: &reqwest::Client,
    fleet: &mut Fleet,
    section: &mut Section,
) -> Result<(), Error> {
    let cookies = Arc::new(setup::log_in(http, BALANCER, 10).await?);
    let refused_before = stat(http, &["rate_limited", "total"]).await?;
    let started = Instant::now();
    // New invoices (from 100 on): each needs the vendor.
    let load = steady_mints(http, cookies, started, 20, 10, 100).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (down, _) = (started.elapsed(), fleet.kill_redis());
    tokio::time::sleep(Duration::from_secs(3)).await;
    fleet.restart_redis()?;
    let up = started.elapsed();
    let answers = load.await?;
    let refused = stat(http, &["rate_limited", "total"]).await? - refused_before;
    let tokens_while_down = answers
        .iter()
        .filter(|sent| (down..up).contains(&sent.at) && matches!(sent.minted, Minted::Token(_)))
        .count();
    let other: Vec<_> = answers
        .iter()
        .filter(|sent| matches!(sent.minted, Minted::Other(_)))
        .collect();
    section.fact(format!(
        "20 mints a second for 10 s; Redis SIGKILLed at {down:.1?}, started again (empty) at \
         {up:.1?}: {} tokens while it was down, {refused} calls refused by the vendor",
        tokens_while_down
    ));
    section.check(
        "checkout goes on without Redis (tokens minted while it was down)",
        tokens_while_down > 0 && other.is_empty(),
        format!("{tokens_while_down} tokens; other answers: {other:?}"),
    );
    section.check(
        "the vendor refused at most the documented bound for the outage",
        refused <= REDIS_OUTAGE_BOUND,
        format!("{refused} refused, bound {REDIS_OUTAGE_BOUND}"),
    );
    Ok(())
}
