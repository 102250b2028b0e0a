//! Payments at a steady rate while the vendor is killed (SIGKILL) and
//! restarted, again and again. Afterwards: every payment the client saw
//! acknowledged exists exactly once, no invoice is paid twice, and every
//! request repeated with the same `Idempotency-Key` got the same answer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::process::Process;
use drivers::setup::{self, invoice_ids};
use drivers::Error;
use rand::Rng;
use tokio::sync::Mutex;

use crate::report::Section;
use crate::vendor::{Answer, Vendor};
use crate::{Length, WORK_DIR};

const SANDBOX: &str = "127.0.0.1:3430";

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
                seconds: 20,
                payments_per_sec: 20,
                kill_every_ms: (1_500, 3_500),
            },
            Length::Long => Self {
                seconds: 180,
                payments_per_sec: 40,
                kill_every_ms: (1_000, 4_000),
            },
        }
    }
}

/// One invoice's story, as the client saw it.
struct Paid {
    invoice_id: String,
    /// The first answer to the payment, and the attempts it took.
    first: Answer,
    attempts: u32,
    /// The same request and key again, later (often across a kill).
    repeat: Answer,
    /// The same invoice again under a new key: must be refused.
    second_payment: Answer,
}

pub async fn run(http: &reqwest::Client, plan: Plan) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("durability");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let count = (plan.seconds * u64::from(plan.payments_per_sec)) as usize;
    let invoices = invoice_ids("inv_d", count);
    let seed = dir.join("seed.json");
    setup::sandbox_seed(&seed, &invoices)?;
    let db = dir.join("sandbox.db");
    let env = vec![
        ("SANDBOX_ADDR", SANDBOX.to_owned()),
        ("SANDBOX_DATABASE_URL", format!("sqlite://{}", db.display())),
        ("SANDBOX_SEED_FILE", seed.display().to_string()),
        ("SANDBOX_RATE_LIMIT_PER_SEC", "0".to_owned()),
        ("RUST_LOG", "sandbox=warn".to_owned()),
    ];
    let log = dir.join("sandbox.log");
    let ready = format!("http://{SANDBOX}/.well-known/jwks.json");
    let start_sandbox = || async {
        let mut sandbox = Process::spawn("target/release/sandbox", &env, Some(&log))?;
        sandbox.wait_ready(http, &ready).await?;
        Ok::<_, Error>(sandbox)
    };
    let sandbox = Arc::new(Mutex::new(start_sandbox().await?));

    let vendor = Arc::new(Vendor::new(http.clone(), format!("http://{SANDBOX}")));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);

    // The killer: SIGKILL at random moments, restart on the same database.
    let killer = {
        let sandbox = sandbox.clone();
        let start_sandbox = &start_sandbox;
        async move {
            let mut kills = 0u32;
            loop {
                let pause = rand::rng().random_range(plan.kill_every_ms.0..plan.kill_every_ms.1);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                if Instant::now() >= deadline {
                    return Ok::<_, Error>(kills);
                }
                let mut running = sandbox.lock().await;
                running.kill();
                kills += 1;
                let down = rand::rng().random_range(100..500);
                tokio::time::sleep(Duration::from_millis(down)).await;
                *running = start_sandbox().await?;
            }
        }
    };

    // The payers: one invoice each, started at a steady rate.
    let payers = async {
        let interval = Duration::from_secs(1) / plan.payments_per_sec;
        let mut tasks = Vec::with_capacity(count);
        for (i, invoice_id) in invoices.iter().enumerate() {
            tokio::time::sleep_until((started + interval * i as u32).into()).await;
            let vendor = vendor.clone();
            let invoice_id = invoice_id.clone();
            tasks.push(tokio::spawn(
                async move { pay_one(&vendor, invoice_id).await },
            ));
        }
        let mut results = Vec::with_capacity(count);
        for task in tasks {
            results.push(
                task.await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string())),
            );
        }
        results
    };
    let (kills, results) = tokio::join!(killer, payers);
    let kills = kills?;

    // One more kill after the last answer, then ask the restarted sandbox
    // what survived.
    {
        let mut running = sandbox.lock().await;
        running.kill();
        *running = start_sandbox().await?;
    }
    let stored = stored_payments(http).await?;
    sandbox.lock().await.interrupt();

    let mut section = Section::default();
    section.fact(format!(
        "{count} invoices paid at {}/s for {} s through a standalone sandbox \
         (SQLite file, WAL); {kills} SIGKILLs, each followed by a restart \
         after 0.1–0.5 s, then one more kill after the last payment",
        plan.payments_per_sec, plan.seconds
    ));
    let mut paid = Vec::new();
    let mut gave_up = Vec::new();
    for result in results {
        match result {
            Ok(story) => paid.push(story),
            Err(error) => gave_up.push(error),
        }
    }
    section.check(
        "every payment got an answer (retried with its key until the vendor answered)",
        gave_up.is_empty(),
        format!(
            "{} answered, {} gave up {:?}",
            paid.len(),
            gave_up.len(),
            gave_up.first()
        ),
    );
    let retried = paid.iter().filter(|p| p.attempts > 1).count();
    let acknowledged: HashMap<&str, &str> = paid
        .iter()
        .filter(|p| p.first.status == 201)
        .map(|p| (p.invoice_id.as_str(), p.first.said.as_str()))
        .collect();
    section.fact(format!(
        "{} payments acknowledged (201); {retried} of them needed more than one attempt \
         (the connection failed or the vendor answered 5xx mid-kill)",
        acknowledged.len()
    ));
    section.check(
        "every invoice's first answer was a payment (201)",
        acknowledged.len() == paid.len(),
        format!("{} of {}", acknowledged.len(), paid.len()),
    );
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|(invoice, id)| stored.get(**invoice).map(Vec::as_slice) != Some(&[id.to_string()]))
        .collect();
    section.check(
        "every acknowledged payment exists exactly once, with the id the client was given",
        missing.is_empty(),
        format!(
            "{} stored payments; {} acknowledged ones missing or different {:?}",
            stored.values().map(Vec::len).sum::<usize>(),
            missing.len(),
            missing.first()
        ),
    );
    let unknown: Vec<_> = stored
        .keys()
        .filter(|invoice| !acknowledged.contains_key(invoice.as_str()))
        .collect();
    section.check(
        "no payment exists that the client was not told of",
        unknown.is_empty(),
        format!("{} unknown {:?}", unknown.len(), unknown.first()),
    );
    let twice: Vec<_> = stored.iter().filter(|(_, ids)| ids.len() > 1).collect();
    let second_accepted: Vec<_> = paid
        .iter()
        .filter(|p| p.second_payment.status != 409)
        .map(|p| (&p.invoice_id, &p.second_payment))
        .collect();
    section.check(
        "no invoice is paid twice (stored; and a second payment under a new key is refused with 409)",
        twice.is_empty() && second_accepted.is_empty(),
        format!("{} invoices with two payments; {} second payments not refused {:?}", twice.len(), second_accepted.len(), second_accepted.first()),
    );
    let differing: Vec<_> = paid
        .iter()
        .filter(|p| {
            p.repeat.status != p.first.status
                || p.repeat.said != p.first.said
                || (p.first.status == 201 && !p.repeat.replayed)
        })
        .map(|p| (&p.invoice_id, &p.first, &p.repeat))
        .collect();
    section.check(
        "every repeat with the same Idempotency-Key got the same answer, marked replayed",
        differing.is_empty(),
        format!(
            "{} repeats; {} differed {:?}",
            paid.len(),
            differing.len(),
            differing.first()
        ),
    );
    section.check(
        "the vendor was really killed during the run",
        kills >= 3,
        format!("{kills} kills"),
    );
    Ok(section)
}

async fn pay_one(vendor: &Vendor, invoice_id: String) -> Result<Paid, Error> {
    let token = vendor.checkout_token(&invoice_id).await?;
    let key = format!("{:032x}", rand::rng().random::<u128>());
    let (first, attempts) = vendor.pay(&token, &key).await?;
    let pause = rand::rng().random_range(0..2_000);
    tokio::time::sleep(Duration::from_millis(pause)).await;
    let (repeat, _) = vendor.pay(&token, &key).await?;
    let other_key = format!("{:032x}", rand::rng().random::<u128>());
    let (second_payment, _) = vendor.pay(&token, &other_key).await?;
    Ok(Paid {
        invoice_id,
        first,
        attempts,
        repeat,
        second_payment,
    })
}

/// The payments the vendor holds, by invoice (the drill's only), as it
/// lists them at `GET /sandbox/payments`.
async fn stored_payments(http: &reqwest::Client) -> Result<HashMap<String, Vec<String>>, Error> {
    let listed: Vec<serde_json::Value> = http
        .get(format!("http://{SANDBOX}/sandbox/payments"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let mut stored: HashMap<String, Vec<String>> = HashMap::new();
    for payment in listed {
        let (Some(invoice), Some(id)) = (payment["invoice_id"].as_str(), payment["id"].as_str())
        else {
            return Err(format!("a listed payment without its ids: {payment}").into());
        };
        if invoice.starts_with("inv_d") {
            stored
                .entry(invoice.to_owned())
                .or_default()
                .push(id.to_owned());
        }
    }
    Ok(stored)
}
