//! Records that heal without the webhook: invoices are paid at the vendor
//! while the merchant hears nothing of them — in one run the vendor's
//! delivery is paused, in the other the merchant holds the wrong signing
//! secret, so every delivery is refused — and the merchant's release server
//! is SIGKILLed twice meanwhile. The catch-up on the vendor's event list
//! (`MERCHANT_EVENTS_CATCH_UP_SECS`, a few seconds here) must record every
//! payment the vendor holds exactly once, and none it does not; when the
//! paused delivery resumes, every event it brings is one already recorded.

use std::time::{Duration, Instant};

use drivers::process::{Process, SERVER};
use drivers::setup::{self, invoice_ids};
use drivers::Error;
use rand::Rng;

use crate::events::{merchant_payments, vendor_payments};
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
    let seed = dir.join("seed.json");
    setup::sandbox_seed(&seed, &invoices)?;
    let merchant_db = setup::merchant_db(&dir.join("merchant.db"), &invoices).await?;

    let mut sandbox = Process::spawn(
        "target/release/sandbox",
        &[
            ("SANDBOX_ADDR", SANDBOX.to_owned()),
            (
                "SANDBOX_DATABASE_URL",
                format!("sqlite://{}", dir.join("sandbox.db").display()),
            ),
            ("SANDBOX_SEED_FILE", seed.display().to_string()),
            ("SANDBOX_RATE_LIMIT_PER_SEC", "0".to_owned()),
            (
                "SANDBOX_WEBHOOK_URL",
                format!("http://{SITE}/webhooks/alternative"),
            ),
            ("SANDBOX_WEBHOOK_SECRETS", SECRET.to_owned()),
            ("RUST_LOG", "sandbox=info".to_owned()),
        ],
        Some(&dir.join("sandbox.log")),
    )?;
    sandbox
        .wait_ready(http, &format!("http://{SANDBOX}/.well-known/jwks.json"))
        .await?;
    if silence == Silence::DeliveryPaused {
        pause_delivery(http, true).await?;
    }
    let mut env = setup::server_env(SITE, "127.0.0.1:0");
    env.extend([
        ("ALTERNATIVE_API_URL", format!("http://{SANDBOX}")),
        ("ALTERNATIVE_CLIENT_ID", "demo_client_id".to_owned()),
        ("ALTERNATIVE_CLIENT_SECRET", "demo_client_secret".to_owned()),
        ("MERCHANT_DATABASE_URL", merchant_db),
        (
            "MERCHANT_WEBHOOK_SECRETS",
            match silence {
                Silence::DeliveryPaused => SECRET,
                Silence::WrongSecret => WRONG_SECRET,
            }
            .to_owned(),
        ),
        ("MERCHANT_EVENTS_CATCH_UP_SECS", CATCH_UP_SECS.to_string()),
        ("MERCHANT_METRICS_ADDR", METRICS.to_owned()),
        ("RUST_LOG", "warn,server=info,merchant=info".to_owned()),
    ]);
    let server_log = dir.join("server.log");
    let start_server = || async {
        let mut server = Process::spawn(SERVER, &env, Some(&server_log))?;
        server
            .wait_ready(http, &format!("http://{SITE}/healthz"))
            .await?;
        Ok::<_, Error>(server)
    };
    let mut server = start_server().await?;

    // The payments, with two SIGKILLs of the merchant among them (at a
    // third and two thirds of the way).
    let vendor = Vendor::new(http.clone(), format!("http://{SANDBOX}"));
    let interval = Duration::from_secs(1) / plan.payments_per_sec;
    let kills_at = [plan.invoices / 3, plan.invoices * 2 / 3];
    let mut acknowledged = 0usize;
    let paying = Instant::now();
    for (i, invoice_id) in invoices.iter().enumerate() {
        if kills_at.contains(&i) {
            server.kill();
            let down = rand::rng().random_range(100..500);
            tokio::time::sleep(Duration::from_millis(down)).await;
            server = start_server().await?;
        }
        tokio::time::sleep_until((paying + interval * i as u32).into()).await;
        let token = vendor.checkout_token(invoice_id).await?;
        let key = format!("{:032x}", rand::rng().random::<u128>());
        if vendor.pay(&token, &key).await?.0.status == 201 {
            acknowledged += 1;
        }
    }

    // The catch-up alone: nothing was delivered (paused), or nothing was
    // accepted (the wrong secret).
    let settling = Instant::now();
    let mut recorded = merchant_payments(http, SITE, prefix).await?;
    while recorded.len() < acknowledged && settling.elapsed() < SETTLE {
        tokio::time::sleep(Duration::from_millis(500)).await;
        recorded = merchant_payments(http, SITE, prefix).await?;
    }
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
    section.check(
        format!("{name}: no delivery recorded anything (so the catch-up did)"),
        events["delivered"].as_u64() == Some(0)
            && metrics.sum("merchant_webhook_deliveries_total", "recorded") == 0,
        format!("{events}"),
    );
    if silence == Silence::WrongSecret {
        section.check(
            format!("{name}: the merchant refused the vendor's deliveries"),
            metrics.sum("merchant_webhook_deliveries_total", "bad_signature") > 0,
            format!(
                "{} refused as bad_signature by the last server",
                metrics.sum("merchant_webhook_deliveries_total", "bad_signature")
            ),
        );
    }

    if silence == Silence::DeliveryPaused {
        // Delivery resumes: every event it brings is already recorded.
        pause_delivery(http, false).await?;
        let resumed = Instant::now();
        let mut events = setup::sandbox_stats(http, SANDBOX).await?["events"].clone();
        while events["delivered"].as_u64() < events["created"].as_u64()
            && resumed.elapsed() < SETTLE
        {
            tokio::time::sleep(Duration::from_millis(250)).await;
            events = setup::sandbox_stats(http, SANDBOX).await?["events"].clone();
        }
        let metrics = scrape(http).await?;
        let recorded = merchant_payments(http, SITE, prefix).await?;
        section.check(
            format!(
                "{name}: once delivery resumed, every event was acknowledged as a duplicate \
                 and the records did not change"
            ),
            events["delivered"] == events["created"]
                && metrics.sum("merchant_webhook_deliveries_total", "duplicate_event")
                    == events["created"].as_u64().unwrap_or(u64::MAX)
                && metrics.sum("merchant_webhook_deliveries_total", "recorded") == 0
                && recorded == held,
            format!(
                "{events}; deliveries by outcome: duplicate_event {}, recorded {}",
                metrics.sum("merchant_webhook_deliveries_total", "duplicate_event"),
                metrics.sum("merchant_webhook_deliveries_total", "recorded")
            ),
        );
    }
    server.interrupt();
    sandbox.interrupt();
    Ok(())
}

/// Every payment the vendor holds is the merchant's, with the same id; the
/// merchant holds none the vendor does not; and none is recorded twice (a
/// second payment for one invoice would show as a conflict).
fn check_records(
    section: &mut Section,
    name: &str,
    held: &std::collections::HashMap<String, String>,
    recorded: &std::collections::HashMap<String, String>,
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
