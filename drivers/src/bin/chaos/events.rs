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

use crate::harness::{at_steady_rate, Restartable};
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
    let merchant_db = setup::merchant_db(&dir.join("merchant.db"), &invoices).await?;
    let mut sandbox = delivering_sandbox(http, &dir, &invoices, SANDBOX, SITE, SECRET).await?;
    let server = Restartable::start(
        http,
        SERVER,
        merchant_env(SITE, SANDBOX, merchant_db, SECRET),
        dir.join("server.log"),
        format!("http://{SITE}/healthz"),
    )
    .await?;

    let vendor = Arc::new(Vendor::new(http.clone(), format!("http://{SANDBOX}")));
    let deadline = Instant::now() + Duration::from_secs(plan.seconds);
    let payers = at_steady_rate(&invoices, plan.payments_per_sec, |invoice_id: String| {
        let vendor = vendor.clone();
        async move {
            let token = vendor.checkout_token(&invoice_id).await?;
            let key = format!("{:032x}", rand::rng().random::<u128>());
            Ok::<_, Error>(vendor.pay(&token, &key).await?.0.status)
        }
    });
    let (kills, answers) = tokio::join!(
        server.kill_now_and_then(plan.kill_every_ms, deadline),
        payers
    );
    let kills = kills?;
    let acknowledged = answers
        .iter()
        .filter(|answer| matches!(answer, Some(Ok(201))))
        .count() as u64;

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
    server.interrupt().await;
    sandbox.interrupt();
    let run = Run {
        count,
        acknowledged,
        kills,
        events,
        settled_in,
    };
    Ok(report(&plan, &run, &held, &recorded))
}

/// What a run did and saw, for its report.
struct Run {
    count: usize,
    acknowledged: u64,
    kills: u32,
    events: serde_json::Value,
    settled_in: Duration,
}

fn report(
    plan: &Plan,
    run: &Run,
    held: &HashMap<String, String>,
    recorded: &HashMap<String, String>,
) -> Section {
    let Run {
        count,
        acknowledged,
        kills,
        events,
        settled_in,
    } = run;
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
        events["created"].as_u64() == Some(*acknowledged)
            && events["delivered"] == events["created"],
        format!("{events}"),
    );
    let missing: Vec<_> = held
        .iter()
        .filter(|(invoice, id)| recorded.get(*invoice) != Some(id))
        .collect();
    section.check(
        "every payment the vendor holds is recorded by the merchant, with the vendor's payment id",
        missing.is_empty() && held.len() as u64 == *acknowledged,
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
        *kills >= 3 && events["retried"].as_u64().unwrap_or(0) > 0,
        format!("{kills} kills, {} retried attempts", events["retried"]),
    );
    section
}

/// A standalone sandbox on `addr`, with `invoices` beside its seed (a
/// SQLite file in `dir`), delivering its events to `site`'s webhook
/// endpoint signed with `secret`.
pub async fn delivering_sandbox(
    http: &reqwest::Client,
    dir: &Path,
    invoices: &[String],
    addr: &str,
    site: &str,
    secret: &str,
) -> Result<Process, Error> {
    let seed = dir.join("seed.json");
    setup::sandbox_seed(&seed, invoices)?;
    let mut sandbox = Process::spawn(
        "target/release/sandbox",
        &[
            ("SANDBOX_ADDR", addr.to_owned()),
            (
                "SANDBOX_DATABASE_URL",
                format!("sqlite://{}", dir.join("sandbox.db").display()),
            ),
            ("SANDBOX_SEED_FILE", seed.display().to_string()),
            ("SANDBOX_RATE_LIMIT_PER_SEC", "0".to_owned()),
            (
                "SANDBOX_WEBHOOK_URL",
                format!("http://{site}/webhooks/alternative"),
            ),
            ("SANDBOX_WEBHOOK_SECRETS", secret.to_owned()),
            ("RUST_LOG", "sandbox=info".to_owned()),
        ],
        Some(&dir.join("sandbox.log")),
    )?;
    sandbox
        .wait_ready(http, &format!("http://{addr}/.well-known/jwks.json"))
        .await?;
    Ok(sandbox)
}

/// The release merchant server's environment on `site`, against the
/// sandbox on `sandbox`, on the database at `db`, checking events with
/// `secret`.
pub fn merchant_env(
    site: &str,
    sandbox: &str,
    db: String,
    secret: &str,
) -> Vec<(&'static str, String)> {
    let mut env = setup::server_env(site, "127.0.0.1:0");
    env.extend([
        ("ALTERNATIVE_API_URL", format!("http://{sandbox}")),
        ("ALTERNATIVE_CLIENT_ID", "demo_client_id".to_owned()),
        ("ALTERNATIVE_CLIENT_SECRET", "demo_client_secret".to_owned()),
        ("MERCHANT_DATABASE_URL", db),
        ("MERCHANT_WEBHOOK_SECRETS", secret.to_owned()),
        ("RUST_LOG", "warn,server=info".to_owned()),
    ]);
    env
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
