//! Payments at a steady rate while the vendor is killed (SIGKILL) and
//! restarted, again and again. Afterwards: every payment the client saw
//! acknowledged exists exactly once, no invoice is paid twice, and every
//! request repeated with the same `Idempotency-Key` got the same answer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::setup::{self, invoice_ids};
use drivers::Error;
use rand::Rng;

use crate::harness::{at_steady_rate, Restartable};
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
    let env = vec![
        ("SANDBOX_ADDR", SANDBOX.to_owned()),
        (
            "SANDBOX_DATABASE_URL",
            format!("sqlite://{}", dir.join("sandbox.db").display()),
        ),
        ("SANDBOX_SEED_FILE", seed.display().to_string()),
        ("SANDBOX_RATE_LIMIT_PER_SEC", "0".to_owned()),
        ("RUST_LOG", "sandbox=warn".to_owned()),
    ];
    let sandbox = Restartable::start(
        http,
        "target/release/sandbox",
        env,
        dir.join("sandbox.log"),
        format!("http://{SANDBOX}/.well-known/jwks.json"),
    )
    .await?;

    // SIGKILL at random moments, restarts on the same database; meanwhile
    // one payer per invoice, started at a steady rate.
    let vendor = Arc::new(Vendor::new(http.clone(), format!("http://{SANDBOX}")));
    let deadline = Instant::now() + Duration::from_secs(plan.seconds);
    let payers = at_steady_rate(&invoices, plan.payments_per_sec, |invoice_id: String| {
        let vendor = vendor.clone();
        async move { pay_one(&vendor, invoice_id).await }
    });
    let (kills, outcomes) = tokio::join!(
        sandbox.kill_now_and_then(plan.kill_every_ms, deadline),
        payers
    );
    let kills = kills?;
    let results: Vec<Result<Paid, String>> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Some(result) => result.map_err(|e| e.to_string()),
            None => Err("the payer panicked".to_owned()),
        })
        .collect();

    // One more kill after the last answer, then ask the restarted sandbox
    // what survived.
    sandbox.kill_and_restart(Duration::ZERO).await?;
    let stored = stored_payments(http).await?;
    sandbox.interrupt().await;
    Ok(report(&plan, count, kills, results, &stored))
}

/// The checks, from what the payers were told and what the vendor holds.
fn report(
    plan: &Plan,
    count: usize,
    kills: u32,
    results: Vec<Result<Paid, String>>,
    stored: &HashMap<String, Vec<String>>,
) -> Section {
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
    check_stored(&mut section, &acknowledged, &paid, stored);
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
    section
}

/// What the restarted vendor holds: every acknowledged payment once, with
/// its id; nothing else; no invoice twice.
fn check_stored(
    section: &mut Section,
    acknowledged: &HashMap<&str, &str>,
    paid: &[Paid],
    stored: &HashMap<String, Vec<String>>,
) {
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
