//! `cargo run --release -p drivers --bin loadtest -- [RATE[:SECONDS]…]`
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

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::process::{rss_mib, Process, SERVER};
use drivers::setup::{self, invoice_ids};
use drivers::{percentile, Error};
use tokio::sync::Mutex;

const SITE: &str = "127.0.0.1:3300";
const SANDBOX: &str = "127.0.0.1:3330";
const INVOICES: usize = 10_000;
const SESSIONS: usize = 32;
/// How long each rate runs; `LOADTEST_SECONDS` overrides (600 for the
/// memory soak in BENCHMARKS.md).
const SECONDS_PER_RATE: u64 = 20;
const WORK_DIR: &str = "target/loadtest";

#[tokio::main]
async fn main() -> Result<(), Error> {
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

    std::fs::create_dir_all(WORK_DIR)?;
    let invoices = invoice_ids("inv_b", INVOICES);
    let merchant_db =
        setup::merchant_db(&Path::new(WORK_DIR).join("merchant.db"), &invoices).await?;
    let seed = Path::new(WORK_DIR).join("sandbox-seed.json");
    setup::sandbox_seed(&seed, &invoices)?;
    let seconds = std::env::var("LOADTEST_SECONDS")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(SECONDS_PER_RATE);
    let mut env = setup::server_env(SITE, SANDBOX);
    env.extend([
        ("SANDBOX_DATABASE_URL", "sqlite::memory:".into()),
        ("SANDBOX_SEED_FILE", seed.display().to_string()),
        ("SANDBOX_RATE_LIMIT_PER_SEC", "0".into()),
        ("MERCHANT_DATABASE_URL", merchant_db),
        ("MERCHANT_RATE_LIMITS", "off".into()),
        ("ALTERNATIVE_RATE_LIMIT_PER_SEC", "1000000".into()),
        // Per-request info lines (two per mint) would be most of the work.
        ("RUST_LOG", "warn".into()),
    ]);
    // Metrics on (BENCHMARKS.md compares the reuse path with and without).
    if let Ok(addr) = std::env::var("MERCHANT_METRICS_ADDR") {
        env.push(("MERCHANT_METRICS_ADDR", addr));
    }
    let mut server = Process::spawn(SERVER, &env, None)?;
    // Memory over time, for the soak: flat is the goal.
    let pid = server.pid();
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
    server
        .wait_ready(&http, &format!("http://{SITE}/healthz"))
        .await?;
    println!("server RSS at idle: {} MiB", server.rss_mib());

    let cookies = setup::log_in(&http, SITE, SESSIONS).await?;
    println!(
        "| rate /s | sent | ok | errors | throughput /s | p50 ms | p99 ms | p99.9 ms | max ms | vendor inits | OAuth requests | RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut next_invoice = 0;
    let mut first_mints = Vec::new();
    for (rate, step_seconds) in steps {
        let before = setup::sandbox_stats(&http, SANDBOX).await?;
        let seconds = step_seconds.unwrap_or(seconds);
        let run = run_at(&http, &cookies, rate, seconds, &mut next_invoice).await;
        let after = setup::sandbox_stats(&http, SANDBOX).await?;
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
    let total = setup::sandbox_stats(&http, SANDBOX).await?;
    println!(
        "OAuth token requests over the whole run: {} (one per OAuth lifetime: 3600 s)",
        total["oauth_tokens_issued"]
    );
    server.interrupt();
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
