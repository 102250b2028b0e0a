//! Records that heal without the webhook: invoices are paid at the vendor
//! while the merchant hears nothing of them — in one run the vendor's
//! delivery is paused, in the other the merchant holds the wrong signing
//! secret, so every delivery is refused — and the merchant's release server
//! is SIGKILLed twice meanwhile. The catch-up on the vendor's event list
//! (`MERCHANT_EVENTS_CATCH_UP_SECS`, a few seconds here) must record every
//! payment the vendor holds exactly once, and none it does not; when the
//! paused delivery resumes, every event it brings is one already recorded.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use drivers::process::SERVER;
use drivers::setup::{self, invoice_ids};
use drivers::Error;
use rand::Rng;

use crate::events::{delivering_sandbox, merchant_env, merchant_payments, vendor_payments};
use crate::harness::{down_for, Restartable};
use crate::report::Section;
use crate::vendor::Vendor;
use crate::Length;
use crate::WORK_DIR;

const SITE: &str = "127.0.0.1:3406";
const METRICS: &str = "127.0.0.1:3407";
const SANDBOX: &str = "127.0.0.1:3436";
const SECRET: &str = "whsec_chaos_heal_0123456789abcdef";
const WRONG_SECRET: &str = "whsec_chaos_heal_not_the_vendors";
/// The catch-up's period in the drill (300 s by default).
const CATCH_UP_SECS: u64 = 3;
/// How long the merchant gets to record everything once the payments are
/// done: a few catch-up periods.
const SETTLE: Duration = Duration::from_secs(45);

/// How the webhook fails to tell the merchant.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Silence {
    /// The vendor holds its deliveries back, and resumes at the end.
    DeliveryPaused,
    /// The vendor delivers; the merchant refuses every signature.
    WrongSecret,
}

pub struct Plan {
    invoices: usize,
    payments_per_sec: u32,
}

impl Plan {
    pub fn for_length(length: Length) -> Self {
        match length {
            Length::Short => Self {
                invoices: 50,
                payments_per_sec: 10,
            },
            Length::Long => Self {
                invoices: 300,
                payments_per_sec: 20,
            },
        }
    }
}

pub async fn run(http: &reqwest::Client, plan: Plan) -> Result<Section, Error> {
    let mut section = Section::default();
    run_one(http, &plan, Silence::DeliveryPaused, &mut section).await?;
    run_one(http, &plan, Silence::WrongSecret, &mut section).await?;
    Ok(section)
}

async fn run_one(
    http: &reqwest::Client,
    plan: &Plan,
    silence: Silence,
    section: &mut Section,
) -> Result<(), Error> {
    let (name, prefix) = match silence {
        Silence::DeliveryPaused => ("delivery paused", "inv_hp"),
        Silence::WrongSecret => ("wrong secret", "inv_hs"),
    };
    let dir = std::path::Path::new(WORK_DIR).join(format!("heal-{prefix}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let invoices = invoice_ids(prefix, plan.invoices);
    let merchant_db = setup::merchant_db(&dir.join("merchant.db"), &invoices).await?;
    let mut sandbox = delivering_sandbox(http, &dir, &invoices, SANDBOX, SITE, SECRET).await?;
    if silence == Silence::DeliveryPaused {
        pause_delivery(http, true).await?;
    }
    let merchant_secret = match silence {
        Silence::DeliveryPaused => SECRET,
        Silence::WrongSecret => WRONG_SECRET,
    };
    let mut env = merchant_env(SITE, SANDBOX, merchant_db, merchant_secret);
    env.extend([
        ("MERCHANT_EVENTS_CATCH_UP_SECS", CATCH_UP_SECS.to_string()),
        ("MERCHANT_METRICS_ADDR", METRICS.to_owned()),
        ("RUST_LOG", "warn,server=info,merchant=info".to_owned()),
    ]);
    let server = Restartable::start(
        http,
        SERVER,
        env,
        dir.join("server.log"),
        format!("http://{SITE}/healthz"),
    )
    .await?;

    let acknowledged = pay_through_two_kills(http, plan, &invoices, &server).await?;
    // The catch-up alone: nothing was delivered (paused), or nothing was
    // accepted (the wrong secret).
    let settling = Instant::now();
    let recorded = records_once_settled(http, prefix, acknowledged).await?;
    let healed_in = settling.elapsed();
    let held = vendor_payments(http, SANDBOX, prefix).await?;
    let events = setup::sandbox_stats(http, SANDBOX).await?["events"].clone();
    let metrics = scrape(http).await?;
    section.fact(format!(
        "{name}: {} invoices paid at the vendor at {}/s ({acknowledged} acknowledged); \
         the merchant's release server SIGKILLed twice meanwhile and restarted after 0.1–0.5 s; \
         catch-up every {CATCH_UP_SECS} s",
        plan.invoices, plan.payments_per_sec
    ));
    section.fact(format!(
        "{name}: {} payments recorded {:.1} s after the last was answered; the vendor's \
         events: {} created, {} delivered, {} failed attempts; the last server's counters: \
         caught up {}, webhook deliveries {}",
        recorded.len(),
        healed_in.as_secs_f64(),
        events["created"],
        events["delivered"],
        events["retried"],
        metrics.sum("merchant_events_caught_up_total", ""),
        metrics.sum("merchant_webhook_deliveries_total", "")
    ));
    check_records(section, name, &held, &recorded, acknowledged);
    check_silence(section, name, silence, &events, &metrics);
    if silence == Silence::DeliveryPaused {
        check_resumed_delivery(http, section, name, prefix, &held).await?;
    }
    server.interrupt().await;
    sandbox.interrupt();
    Ok(())
}

/// Pays every invoice at the vendor at the plan's rate, the merchant
/// SIGKILLed (and restarted) at a third and at two thirds of the way; how
/// many payments the vendor acknowledged.
async fn pay_through_two_kills(
    http: &reqwest::Client,
    plan: &Plan,
    invoices: &[String],
    server: &Restartable<'_>,
) -> Result<usize, Error> {
    let vendor = Vendor::new(http.clone(), format!("http://{SANDBOX}"));
    let interval = Duration::from_secs(1) / plan.payments_per_sec;
    let kills_at = [plan.invoices / 3, plan.invoices * 2 / 3];
    let mut acknowledged = 0;
    let paying = Instant::now();
    for (i, invoice_id) in invoices.iter().enumerate() {
        if kills_at.contains(&i) {
            server.kill_and_restart(down_for()).await?;
        }
        tokio::time::sleep_until((paying + interval * i as u32).into()).await;
        let token = vendor.checkout_token(invoice_id).await?;
        let key = format!("{:032x}", rand::rng().random::<u128>());
        if vendor.pay(&token, &key).await?.0.status == 201 {
            acknowledged += 1;
        }
    }
    Ok(acknowledged)
}

/// The merchant's recorded payments of the run's invoices, once it shows
/// `acknowledged` of them or [`SETTLE`] has passed.
async fn records_once_settled(
    http: &reqwest::Client,
    prefix: &str,
    acknowledged: usize,
) -> Result<HashMap<String, String>, Error> {
    let settling = Instant::now();
    let mut recorded = merchant_payments(http, SITE, prefix).await?;
    while recorded.len() < acknowledged && settling.elapsed() < SETTLE {
        tokio::time::sleep(Duration::from_millis(500)).await;
        recorded = merchant_payments(http, SITE, prefix).await?;
    }
    Ok(recorded)
}

/// Nothing was recorded by a delivery; with the wrong secret, deliveries
/// were refused.
fn check_silence(
    section: &mut Section,
    name: &str,
    silence: Silence,
    events: &serde_json::Value,
    metrics: &Metrics,
) {
    section.check(
        format!("{name}: no delivery recorded anything (so the catch-up did)"),
        events["delivered"].as_u64() == Some(0)
            && metrics.sum("merchant_webhook_deliveries_total", "recorded") == 0,
        format!("{events}"),
    );
    if silence == Silence::WrongSecret {
        let refused = metrics.sum("merchant_webhook_deliveries_total", "bad_signature");
        section.check(
            format!("{name}: the merchant refused the vendor's deliveries"),
            refused > 0,
            format!("{refused} refused as bad_signature by the last server"),
        );
    }
}

/// Delivery resumes: every event it brings is one already recorded.
async fn check_resumed_delivery(
    http: &reqwest::Client,
    section: &mut Section,
    name: &str,
    prefix: &str,
    held: &HashMap<String, String>,
) -> Result<(), Error> {
    pause_delivery(http, false).await?;
    let resumed = Instant::now();
    let mut events = setup::sandbox_stats(http, SANDBOX).await?["events"].clone();
    while events["delivered"].as_u64() < events["created"].as_u64() && resumed.elapsed() < SETTLE {
        tokio::time::sleep(Duration::from_millis(250)).await;
        events = setup::sandbox_stats(http, SANDBOX).await?["events"].clone();
    }
    let metrics = scrape(http).await?;
    let recorded = merchant_payments(http, SITE, prefix).await?;
    let duplicates = metrics.sum("merchant_webhook_deliveries_total", "duplicate_event");
    let newly = metrics.sum("merchant_webhook_deliveries_total", "recorded");
    section.check(
        format!(
            "{name}: once delivery resumed, every event was acknowledged as a duplicate \
             and the records did not change"
        ),
        events["delivered"] == events["created"]
            && duplicates == events["created"].as_u64().unwrap_or(u64::MAX)
            && newly == 0
            && recorded == *held,
        format!("{events}; deliveries by outcome: duplicate_event {duplicates}, recorded {newly}"),
    );
    Ok(())
}

/// Every payment the vendor holds is the merchant's, with the same id; the
/// merchant holds none the vendor does not; and none is recorded twice (a
/// second payment for one invoice would show as a conflict).
fn check_records(
    section: &mut Section,
    name: &str,
    held: &HashMap<String, String>,
    recorded: &HashMap<String, String>,
    acknowledged: usize,
) {
    let missing: Vec<_> = held
        .iter()
        .filter(|(invoice, id)| recorded.get(*invoice) != Some(id))
        .collect();
    section.check(
        format!("{name}: every payment the vendor holds is recorded, with the vendor's payment id"),
        missing.is_empty() && held.len() == acknowledged,
        format!(
            "{} held, {acknowledged} acknowledged, {} missing or different {:?}",
            held.len(),
            missing.len(),
            missing.first()
        ),
    );
    let invented: Vec<_> = recorded.keys().filter(|i| !held.contains_key(*i)).collect();
    section.check(
        format!("{name}: the merchant records no payment the vendor does not hold"),
        invented.is_empty(),
        format!(
            "{} unknown to the vendor {:?}",
            invented.len(),
            invented.first()
        ),
    );
}

async fn pause_delivery(http: &reqwest::Client, paused: bool) -> Result<(), Error> {
    http.post(format!("http://{SANDBOX}/sandbox/webhook"))
        .header("x-sandbox-control", "1")
        .json(&serde_json::json!({ "paused": paused }))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// The merchant's Prometheus counters (`MERCHANT_METRICS_ADDR`).
struct Metrics(String);

impl Metrics {
    /// The sum of `name`'s series whose `outcome` is `outcome` (any, if empty).
    fn sum(&self, name: &str, outcome: &str) -> u64 {
        self.0
            .lines()
            .filter(|line| line.starts_with(name))
            .filter(|line| outcome.is_empty() || line.contains(&format!("outcome=\"{outcome}\"")))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

async fn scrape(http: &reqwest::Client) -> Result<Metrics, Error> {
    Ok(Metrics(
        http.get(format!("http://{METRICS}/metrics"))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?,
    ))
}
