//! `cargo run --release -p loadtest -- [RATE[:SECONDS]…]`
//!
//! Measures minting under load, for BENCHMARKS.md: logged-in sessions POST
//! `/api/checkout/token` for many distinct invoices, at fixed rates, against
//! the release server with its embedded sandbox on loopback. Rate limits are
//! off on both sides (the sandbox's 5/s per key and the merchant's own), as
//! a benchmark from one address needs; everything else is production code.
//!
//! The load is open-loop: request `i` is due at `start + i / rate` whether
//! or not earlier ones have answered, and its latency counts from when it
//! was due — a server that falls behind shows it in the percentiles instead
//! of quietly slowing the load down (no coordinated omission).
//!
//! Each step runs at RATE mints a second for SECONDS (default 20, or
//! `LOADTEST_SECONDS`): `1000:12 5000:600` first mints every invoice at a
//! rate the vendor path holds, then soaks the reuse path for ten minutes.
//!
//! Build the site first (`cargo leptos build --release`): this starts
//! `target/release/server` itself and stops it at the end.

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

const SITE: &str = "127.0.0.1:3300";
const SANDBOX: &str = "127.0.0.1:3330";
const INVOICES: usize = 10_000;
const SESSIONS: usize = 32;
/// How long each rate runs; `LOADTEST_SECONDS` overrides (600 for the
/// memory soak in BENCHMARKS.md).
const SECONDS_PER_RATE: u64 = 20;
const WORK_DIR: &str = "target/loadtest";
/// The demo customer the benchmark's invoices belong to (alice's).
const CUSTOMER: &str = "cus_acme";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps: Vec<(u32, Option<u64>)> = std::env::args()
        .skip(1)
        .map(|step| match step.split_once(':') {
            Some((rate, secs)) => Ok((rate.parse()?, Some(secs.parse()?))),
            None => Ok((step.parse()?, None)),
        })
        .collect::<Result<_, std::num::ParseIntError>>()?;
    let steps = if steps.is_empty() {
        [1000, 2000, 3000, 4000, 5000]
            .map(|rate| (rate, None))
            .into()
    } else {
        steps
    };

    let merchant_db = prepare_merchant_db().await?;
    let seed = prepare_sandbox_seed()?;
    let seconds = std::env::var("LOADTEST_SECONDS")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(SECONDS_PER_RATE);
    let mut server = Server::start(&merchant_db, &seed)?;
    // Memory over time, for the soak: flat is the goal.
    let pid = server.0.id();
    tokio::spawn(async move {
        let start = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            eprintln!(
                "RSS after {:>4} s: {} MiB",
                start.elapsed().as_secs(),
                rss_mib(pid)
            );
        }
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    server.wait_ready(&http).await?;
    println!("server RSS at idle: {} MiB", server.rss_mib());

    let cookies = log_in(&http, SESSIONS).await?;
    println!(
        "| rate /s | sent | ok | errors | throughput /s | p50 ms | p99 ms | p99.9 ms | max ms | vendor inits | OAuth requests | RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut next_invoice = 0;
    let mut first_mints = Vec::new();
    for (rate, step_seconds) in steps {
        let before = sandbox_stats(&http).await?;
        let seconds = step_seconds.unwrap_or(seconds);
        let run = run_at(&http, &cookies, rate, seconds, &mut next_invoice).await;
        let after = sandbox_stats(&http).await?;
        let stat =
            |name: &str| after[name].as_u64().unwrap_or(0) - before[name].as_u64().unwrap_or(0);
        println!(
            "| {rate} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            run.sent,
            run.latencies_us.len(),
            run.errors,
            run.latencies_us.len() as f64 / run.elapsed.as_secs_f64(),
            percentile(&run.latencies_us, 50.0),
            percentile(&run.latencies_us, 99.0),
            percentile(&run.latencies_us, 99.9),
            percentile(&run.latencies_us, 100.0),
            stat("checkout_tokens_issued"),
            stat("oauth_tokens_issued"),
            server.rss_mib(),
        );
        if !run.first_mints_us.is_empty() {
            let first = &run.first_mints_us;
            first_mints.push(format!(
                "first mints of an invoice (each a vendor call) at {rate}/s: n={}, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
                first.len(),
                percentile(first, 50.0),
                percentile(first, 99.0),
                percentile(first, 99.9),
            ));
        }
    }
    for line in first_mints {
        println!("{line}");
    }
    let total = sandbox_stats(&http).await?;
    println!(
        "OAuth token requests over the whole run: {} (one per OAuth lifetime: 3600 s)",
        total["oauth_tokens_issued"]
    );
    server.stop();
    Ok(())
}

struct Run {
    sent: usize,
    errors: usize,
    /// Every answered mint, sorted.
    latencies_us: Vec<u64>,
    /// Only the first mint of each invoice: the ones that go to the vendor
    /// (later ones get the token back while it has most of its life left).
    first_mints_us: Vec<u64>,
    elapsed: Duration,
}

async fn run_at(
    http: &reqwest::Client,
    cookies: &[String],
    rate: u32,
    seconds: u64,
    next_invoice: &mut usize,
) -> Run {
    let total = (rate as u64 * seconds) as usize;
    let results = Arc::new(Mutex::new((Vec::with_capacity(total), Vec::new(), 0usize)));
    let interval = Duration::from_secs(1) / rate;
    let start = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let invoice = format!("inv_b{:05}", *next_invoice % INVOICES);
        let first = *next_invoice < INVOICES;
        *next_invoice += 1;
        let (http, cookie, results) = (
            http.clone(),
            cookies[i % cookies.len()].clone(),
            results.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let ok = http
                .post(format!("http://{SITE}/api/checkout/token"))
                .header("cookie", cookie)
                .form(&[("invoice_id", invoice.as_str())])
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            let took = due.elapsed().as_micros() as u64;
            let mut results = results.lock().await;
            match (ok, first) {
                (true, true) => {
                    results.0.push(took);
                    results.1.push(took);
                }
                (true, false) => results.0.push(took),
                (false, _) => results.2 += 1,
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = start.elapsed();
    let (mut latencies_us, mut first_mints_us, errors) = std::mem::take(&mut *results.lock().await);
    latencies_us.sort_unstable();
    first_mints_us.sort_unstable();
    Run {
        sent: total,
        errors,
        latencies_us,
        first_mints_us,
        elapsed,
    }
}

fn percentile(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    sorted_us[rank.clamp(1, sorted_us.len()) - 1] as f64 / 1000.0
}

/// The merchant's database with the demo users and `INVOICES` more invoices
/// of alice's, `inv_b00000`…
async fn prepare_merchant_db() -> Result<String, Box<dyn std::error::Error>> {
    let path = format!("{WORK_DIR}/merchant.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let url = format!("sqlite://{path}");
    let db = merchant::db::open(&url).await?;
    let pool = db.pool();
    let mut tx = pool.begin().await?;
    for n in 0..INVOICES {
        sqlx::query("INSERT INTO invoices (id, customer_id, invoice_number, currency, total) VALUES (?, ?, ?, 'USD', '10.00')")
            .bind(format!("inv_b{n:05}"))
            .bind(CUSTOMER)
            .bind(format!("B-{n:05}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    pool.close().await;
    Ok(url)
}

/// The sandbox's seed with the same invoices on the vendor's side.
fn prepare_sandbox_seed() -> Result<String, Box<dyn std::error::Error>> {
    let mut seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("sandbox/seed.json")?)?;
    let invoices = seed["invoices"]
        .as_array_mut()
        .ok_or("seed.json has no invoices")?;
    for n in 0..INVOICES {
        invoices.push(serde_json::json!({
            "id": format!("inv_b{n:05}"), "partner_id": "partner_demo", "customer_id": CUSTOMER,
            "invoice_number": format!("B-{n:05}"), "currency": "USD", "sub_total": "10.00",
            "total": "10.00", "status": "open", "created_at": "2026-11-01T09:00:00Z",
            "due_date": "2026-12-31"
        }));
    }
    let path = format!("{WORK_DIR}/sandbox-seed.json");
    std::fs::write(&path, serde_json::to_vec(&seed)?)?;
    Ok(path)
}

async fn log_in(
    http: &reqwest::Client,
    sessions: usize,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut cookies = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let response = http
            .post(format!("http://{SITE}/api/login"))
            .form(&[
                ("email", "alice@example.com"),
                ("password", "alice-demo-password"),
            ])
            .send()
            .await?;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("merchant_session="))
            .and_then(|v| v.split(';').next())
            .ok_or("no session cookie after log-in")?;
        cookies.push(cookie.to_owned());
    }
    Ok(cookies)
}

async fn sandbox_stats(
    http: &reqwest::Client,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    Ok(http
        .get(format!("http://{SANDBOX}/sandbox/stats"))
        .send()
        .await?
        .json()
        .await?)
}

/// Resident memory of the server process (app and embedded sandbox).
fn rss_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// The release server with its embedded sandbox, as `cargo leptos serve
/// --release` would start it.
struct Server(Child);

impl Server {
    fn start(merchant_db: &str, seed: &str) -> std::io::Result<Self> {
        Command::new("target/release/server")
            .env("LEPTOS_OUTPUT_NAME", "checkout")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_HASH_FILES", "true")
            .env("LEPTOS_SITE_ADDR", SITE)
            .env("SANDBOX_ADDR", SANDBOX)
            .env("SANDBOX_DATABASE_URL", "sqlite::memory:")
            .env("SANDBOX_SEED_FILE", seed)
            .env("SANDBOX_RATE_LIMIT_PER_SEC", "0")
            .env("MERCHANT_DATABASE_URL", merchant_db)
            .env("MERCHANT_RATE_LIMITS", "off")
            .env("ALTERNATIVE_RATE_LIMIT_PER_SEC", "1000000")
            // Per-request info lines (two per mint) would be most of the work.
            .env("RUST_LOG", "warn")
            .spawn()
            .map(Self)
    }

    async fn wait_ready(
        &mut self,
        http: &reqwest::Client,
    ) -> Result<(), Box<dyn std::error::Error>> {
        for _ in 0..100 {
            if http
                .get(format!("http://{SITE}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the server did not start".into())
    }

    fn rss_mib(&self) -> u64 {
        rss_mib(self.0.id())
    }

    /// SIGINT: the server finishes what it has and exits, as on Ctrl-C.
    fn stop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
}

/// A run that fails half-way still stops the server it started.
impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
