//! Payment events while the merchant's server is killed (SIGKILL) and
//! restarted, again and again: invoices are paid at a steady rate at the
//! vendor (a standalone sandbox delivering signed events to the release
//! server's `/webhooks/alternative`). Afterwards, once the vendor has
//! delivered every event: each payment the vendor holds is recorded by the
//! merchant, with the vendor's payment id, and the merchant records none the
//! vendor does not hold — read from outside, as the invoice list shows them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::process::{Process, SERVER};
use drivers::setup::{self, invoice_ids};
use drivers::Error;
use rand::Rng;
use tokio::sync::Mutex;

use crate::report::Section;
use crate::vendor::Vendor;
use crate::Length;
use crate::WORK_DIR;

const SITE: &str = "127.0.0.1:3404";
const SANDBOX: &str = "127.0.0.1:3434";
const SECRET: &str = "whsec_chaos_drill_0123456789abcdef";
/// How long the vendor gets to deliver what is left after the last payment
/// (its retries back off 1, 2, 4, 8 … s).
const SETTLE: Duration = Duration::from_secs(90);

pub struct Plan {
    seconds: u64,
    payments_per_sec: u32,
    /// A kill comes after a pause drawn from this range.
    kill_every_ms: (u64, u64),
}

impl Plan {
    pub fn for_length(length: Length) -> Self {
        match length {
            Length::Short => Self {
                seconds: 15,
                payments_per_sec: 10,
                kill_every_ms: (1_500, 3_500),
            },
            Length::Long => Self {
                seconds: 120,
                payments_per_sec: 20,
                kill_every_ms: (1_000, 4_000),
            },
        }
    }
}

pub async fn run(http: &reqwest::Client, plan: Plan) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("events");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let count = (plan.seconds * u64::from(plan.payments_per_sec)) as usize;
    let invoices = invoice_ids("inv_w", count);
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
    let mut env = setup::server_env(SITE, "127.0.0.1:0");
    env.extend([
        ("ALTERNATIVE_API_URL", format!("http://{SANDBOX}")),
        ("ALTERNATIVE_CLIENT_ID", "demo_client_id".to_owned()),
        ("ALTERNATIVE_CLIENT_SECRET", "demo_client_secret".to_owned()),
        ("MERCHANT_DATABASE_URL", merchant_db),
        ("MERCHANT_WEBHOOK_SECRETS", SECRET.to_owned()),
        ("RUST_LOG", "warn,server=info".to_owned()),
    ]);
    let server_log = dir.join("server.log");
    let start_server = || async {
        let mut server = Process::spawn(SERVER, &env, Some(&server_log))?;
        server
            .wait_ready(http, &format!("http://{SITE}/healthz"))
            .await?;
        Ok::<_, Error>(server)
    };
    let server = Arc::new(Mutex::new(start_server().await?));

    let vendor = Arc::new(Vendor::new(http.clone(), format!("http://{SANDBOX}")));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);
    let killer = {
        let server = server.clone();
        let start_server = &start_server;
        async move {
            let mut kills = 0u32;
            loop {
                let pause = rand::rng().random_range(plan.kill_every_ms.0..plan.kill_every_ms.1);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                if Instant::now() >= deadline {
                    return Ok::<_, Error>(kills);
                }
                let mut running = server.lock().await;
                running.kill();
                kills += 1;
                let down = rand::rng().random_range(100..500);
                tokio::time::sleep(Duration::from_millis(down)).await;
                *running = start_server().await?;
            }
        }
    };
    let payers = async {
        let interval = Duration::from_secs(1) / plan.payments_per_sec;
        let mut tasks = Vec::with_capacity(count);
        for (i, invoice_id) in invoices.iter().enumerate() {
            tokio::time::sleep_until((started + interval * i as u32).into()).await;
            let vendor = vendor.clone();
            let invoice_id = invoice_id.clone();
            tasks.push(tokio::spawn(async move {
                let token = vendor.checkout_token(&invoice_id).await?;
                let key = format!("{:032x}", rand::rng().random::<u128>());
                vendor
                    .pay(&token, &key)
                    .await
                    .map(|(answer, _)| answer.status)
            }));
        }
        let mut acknowledged = 0u64;
        for task in tasks {
            if matches!(task.await, Ok(Ok(201))) {
                acknowledged += 1;
            }
        }
        acknowledged
    };
    let (kills, acknowledged) = tokio::join!(killer, payers);
    let kills = kills?;

    // Everything the vendor made, delivered: its counters say when.
    let settle_started = Instant::now();
    let mut events = setup::sandbox_stats(http, SANDBOX).await?["events"].clone();
    while events["delivered"].as_u64() < events["created"].as_u64()
        && settle_started.elapsed() < SETTLE
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
        events = setup::sandbox_stats(http, SANDBOX).await?["events"].clone();
    }
    let settled_in = settle_started.elapsed();
    let held = vendor_payments(http, SANDBOX, "inv_w").await?;
    let recorded = merchant_payments(http, SITE, "inv_w").await?;
    server.lock().await.interrupt();
    sandbox.interrupt();

    let mut section = Section::default();
    section.fact(format!(
        "{count} invoices paid at the vendor at {}/s for {} s ({acknowledged} acknowledged); \
         the merchant's release server, receiving the signed events, got {kills} SIGKILLs, \
         each followed by a restart after 0.1–0.5 s",
        plan.payments_per_sec, plan.seconds
    ));
    section.fact(format!(
        "vendor events: {} created, {} delivered, {} failed attempts retried, {} given up; \
         all delivered {:.1} s after the last payment was answered",
        events["created"],
        events["delivered"],
        events["retried"],
        events["failed"],
        settled_in.as_secs_f64()
    ));
    section.check(
        "the vendor delivered every event it created (acknowledged with a 2xx)",
        events["created"].as_u64() == Some(acknowledged)
            && events["delivered"] == events["created"],
        format!("{events}"),
    );
    let missing: Vec<_> = held
        .iter()
        .filter(|(invoice, id)| recorded.get(*invoice) != Some(id))
        .collect();
    section.check(
        "every payment the vendor holds is recorded by the merchant, with the vendor's payment id",
        missing.is_empty() && held.len() as u64 == acknowledged,
        format!(
            "{} held, {} missing or different {:?}",
            held.len(),
            missing.len(),
            missing.first()
        ),
    );
    let invented: Vec<_> = recorded.keys().filter(|i| !held.contains_key(*i)).collect();
    section.check(
        "the merchant records no payment the vendor does not hold",
        invented.is_empty(),
        format!(
            "{} recorded, {} unknown to the vendor {:?}",
            recorded.len(),
            invented.len(),
            invented.first()
        ),
    );
    section.check(
        "the merchant was really killed during the run, and events were retried",
        kills >= 3 && events["retried"].as_u64().unwrap_or(0) > 0,
        format!("{kills} kills, {} retried attempts", events["retried"]),
    );
    Ok(section)
}

/// The payments of invoices starting with `prefix` the vendor at `sandbox`
/// holds: invoice → payment id.
pub async fn vendor_payments(
    http: &reqwest::Client,
    sandbox: &str,
    prefix: &str,
) -> Result<HashMap<String, String>, Error> {
    let listed: Vec<serde_json::Value> = http
        .get(format!("http://{sandbox}/sandbox/payments"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(listed
        .iter()
        .filter_map(|p| Some((p["invoice_id"].as_str()?, p["id"].as_str()?)))
        .filter(|(invoice, _)| invoice.starts_with(prefix))
        .map(|(invoice, id)| (invoice.to_owned(), id.to_owned()))
        .collect())
}

/// The invoices starting with `prefix` the merchant at `site` shows with a
/// payment, as its invoice list says (logged in as their owner): invoice →
/// payment id.
pub async fn merchant_payments(
    http: &reqwest::Client,
    site: &str,
    prefix: &str,
) -> Result<HashMap<String, String>, Error> {
    let cookie = setup::log_in(http, site, 1).await?.remove(0);
    let listed: Vec<serde_json::Value> = http
        .post(format!("http://{site}/api/invoices"))
        .header("cookie", cookie)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(listed
        .iter()
        .filter_map(|i| Some((i["id"].as_str()?, i["paid_by"].as_str()?)))
        .filter(|(invoice, _)| invoice.starts_with(prefix))
        .map(|(invoice, id)| (invoice.to_owned(), id.to_owned()))
        .collect())
}
