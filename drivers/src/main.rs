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
//! `LOADTEST_INSTANCES=N` measures a fleet instead: N release instances
//! behind nginx round robin on PostgreSQL and Redis, against the standalone
//! sandbox (`drivers::fleet`), the load sent to the balancer. On one machine
//! the fleet, nginx, Redis, PostgreSQL and this load share the cores: the
//! CPU column gives what a mint cost the instances, the per-instance figure.
//! `LOADTEST_VENDOR_QUOTA=Q` turns the vendor's quota on (Q calls a second,
//! at the sandbox and in the instances): first mints beyond it are answered
//! busy (counted apart), and the vendor's refusals are counted.
//!
//! Build first (`cargo leptos build --release`, and for a fleet `cargo build
//! --release -p sandbox -p drivers`): this starts the servers itself and
//! stops them at the end.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::fleet::{Fleet, Plan};
use drivers::process::{cpu_us, rss_mib, Process, SERVER};
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
    let steps = steps(std::env::args().skip(1))?;
    std::fs::create_dir_all(WORK_DIR)?;
    let invoices = invoice_ids("inv_b", INVOICES);
    let seconds = std::env::var("LOADTEST_SECONDS")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(SECONDS_PER_RATE);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let quota: Option<u32> = std::env::var("LOADTEST_VENDOR_QUOTA")
        .ok()
        .map(|q| q.parse())
        .transpose()?;
    let target = match std::env::var("LOADTEST_INSTANCES") {
        Ok(n) => Target::fleet(&http, n.parse()?, quota, &invoices).await?,
        Err(_) => Target::single(&http, &invoices, quota).await?,
    };
    log_memory_every_minute(target.pids());
    println!("server RSS at idle: {} MiB", target.rss_mib());

    let cookies = setup::log_in(&http, &target.site(), SESSIONS).await?;
    println!(
        "| rate /s | sent | ok | busy | errors | throughput /s | p50 ms | p99 ms | p99.9 ms | max ms | vendor inits | OAuth requests | refused by the vendor | server CPU µs/mint | RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut next_invoice = 0;
    let mut first_mints = Vec::new();
    for (rate, step_seconds) in steps {
        let seconds = step_seconds.unwrap_or(seconds);
        let step = Step { rate, seconds };
        first_mints.extend(
            step.run(&http, &target, &cookies, &mut next_invoice)
                .await?,
        );
    }
    for line in first_mints {
        println!("{line}");
    }
    let total = setup::sandbox_stats(&http, &target.sandbox()).await?;
    println!(
        "OAuth token requests over the whole run: {} (one per OAuth lifetime: 3600 s)",
        total["oauth_tokens_issued"]
    );
    Ok(())
}

/// The rates asked for (`RATE[:SECONDS]` each), or the default ramp.
fn steps(args: impl Iterator<Item = String>) -> Result<Vec<(u32, Option<u64>)>, Error> {
    let steps: Vec<(u32, Option<u64>)> = args
        .map(|step| match step.split_once(':') {
            Some((rate, secs)) => Ok((rate.parse()?, Some(secs.parse()?))),
            None => Ok((step.parse()?, None)),
        })
        .collect::<Result<_, std::num::ParseIntError>>()?;
    if steps.is_empty() {
        return Ok([1000, 2000, 3000, 4000, 5000]
            .map(|rate| (rate, None))
            .into());
    }
    Ok(steps)
}

/// Memory over time, for the soak: flat is the goal.
fn log_memory_every_minute(pids: Vec<u32>) {
    tokio::spawn(async move {
        let start = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            let rss: u64 = pids.iter().map(|&pid| rss_mib(pid)).sum();
            eprintln!("RSS after {:>4} s: {rss} MiB", start.elapsed().as_secs());
        }
    });
}

/// One rate of the ramp, for so long.
struct Step {
    rate: u32,
    seconds: u64,
}

impl Step {
    /// Sends the load, prints its table row, and returns the first mints'
    /// line, if any invoice was minted for the first time.
    async fn run(
        &self,
        http: &reqwest::Client,
        target: &Target,
        cookies: &[String],
        next_invoice: &mut usize,
    ) -> Result<Option<String>, Error> {
        let Self { rate, seconds } = *self;
        let sandbox = target.sandbox();
        let before = setup::sandbox_stats(http, &sandbox).await?;
        let cpu_before = target.cpu_us();
        let run = run_at(http, &target.site(), cookies, rate, seconds, next_invoice).await;
        let cpu = target.cpu_us() - cpu_before;
        let after = setup::sandbox_stats(http, &sandbox).await?;
        let stat = |name: &str| {
            let count = |stats: &serde_json::Value| {
                name.split('.')
                    .fold(stats, |v, key| &v[key])
                    .as_u64()
                    .unwrap_or(0)
            };
            count(&after) - count(&before)
        };
        let answered = run.latencies_us.len() + run.busy;
        println!(
            "| {rate} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {:.0} | {} |",
            run.sent,
            run.latencies_us.len(),
            run.busy,
            run.errors,
            run.latencies_us.len() as f64 / run.elapsed.as_secs_f64(),
            percentile(&run.latencies_us, 50.0),
            percentile(&run.latencies_us, 99.0),
            percentile(&run.latencies_us, 99.9),
            percentile(&run.latencies_us, 100.0),
            stat("checkout_tokens_issued"),
            stat("oauth_tokens_issued"),
            stat("rate_limited.total"),
            cpu as f64 / answered.max(1) as f64,
            target.rss_mib(),
        );
        if run.first_mints_us.is_empty() {
            return Ok(None);
        }
        let first = &run.first_mints_us;
        Ok(Some(format!(
            "first mints of an invoice (each a vendor call) at {rate}/s: n={}, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
            first.len(),
            percentile(first, 50.0),
            percentile(first, 99.0),
            percentile(first, 99.9),
        )))
    }
}

/// What the load is sent to: one server with its embedded sandbox, or a
/// fleet behind its balancer. Dropping it stops them.
enum Target {
    Single(Process),
    Fleet(Fleet),
}

impl Target {
    async fn single(
        http: &reqwest::Client,
        invoices: &[String],
        quota: Option<u32>,
    ) -> Result<Self, Error> {
        let seed = Path::new(WORK_DIR).join("sandbox-seed.json");
        setup::sandbox_seed(&seed, invoices)?;
        let merchant_db =
            setup::merchant_db(&Path::new(WORK_DIR).join("merchant.db"), invoices).await?;
        let mut env = setup::server_env(SITE, SANDBOX);
        env.extend([
            ("SANDBOX_DATABASE_URL", "sqlite::memory:".into()),
            ("SANDBOX_SEED_FILE", seed.display().to_string()),
            ("SANDBOX_RATE_LIMIT_PER_SEC", quota.unwrap_or(0).to_string()),
            ("MERCHANT_DATABASE_URL", merchant_db),
            ("MERCHANT_RATE_LIMITS", "off".into()),
            (
                "ALTERNATIVE_RATE_LIMIT_PER_SEC",
                quota.unwrap_or(1_000_000).to_string(),
            ),
        ]);
        env.extend(server_settings());
        let mut server = Process::spawn(SERVER, &env, None)?;
        server
            .wait_ready(http, &format!("http://{SITE}/healthz"))
            .await?;
        Ok(Self::Single(server))
    }

    async fn fleet(
        http: &reqwest::Client,
        instances: usize,
        vendor_quota: Option<u32>,
        invoices: &[String],
    ) -> Result<Self, Error> {
        let mut env = vec![("MERCHANT_RATE_LIMITS", "off".to_owned())];
        env.extend(server_settings());
        let plan = Plan {
            balancer_port: 3470,
            instances,
            redis_port: 6393,
            database: "loadtest_fleet",
            vendor_quota,
            invoices: invoices.to_vec(),
            env,
            dir: Path::new(WORK_DIR).join("fleet"),
        };
        Ok(Self::Fleet(Fleet::start(http, plan).await?))
    }

    fn site(&self) -> String {
        match self {
            Self::Single(_) => SITE.to_owned(),
            Self::Fleet(fleet) => fleet.plan.balancer(),
        }
    }

    fn sandbox(&self) -> String {
        match self {
            Self::Single(_) => SANDBOX.to_owned(),
            Self::Fleet(fleet) => fleet.plan.sandbox(),
        }
    }

    /// The merchant's server processes (not the sandbox, nginx or Redis).
    fn pids(&self) -> Vec<u32> {
        match self {
            Self::Single(server) => vec![server.pid()],
            Self::Fleet(fleet) => fleet.instance_pids(),
        }
    }

    fn rss_mib(&self) -> u64 {
        self.pids().into_iter().map(rss_mib).sum()
    }

    /// CPU time the merchant's servers have used so far, in microseconds.
    /// With the embedded sandbox, the vendor's work is in it too.
    fn cpu_us(&self) -> u64 {
        self.pids().into_iter().map(cpu_us).sum()
    }
}

/// The environment every measured server gets, whatever the target.
fn server_settings() -> Vec<(&'static str, String)> {
    // Per-request info lines (two per mint) would be most of the work.
    let mut env = vec![("RUST_LOG", "warn".to_owned())];
    // Metrics on (BENCHMARKS.md compares the reuse path with and without).
    if let Ok(addr) = std::env::var("MERCHANT_METRICS_ADDR") {
        env.push(("MERCHANT_METRICS_ADDR", addr));
    }
    env
}

#[derive(Default)]
struct Run {
    sent: usize,
    errors: usize,
    /// Every answered mint, sorted.
    latencies_us: Vec<u64>,
    /// Only the first mint of each invoice: the ones that go to the vendor
    /// (later ones get the token back while it has most of its life left).
    first_mints_us: Vec<u64>,
    /// Answered "busy, retry in N s" (503 with `Retry-After`): over the
    /// vendor's quota, not an error.
    busy: usize,
    elapsed: Duration,
}

async fn run_at(
    http: &reqwest::Client,
    site: &str,
    cookies: &[String],
    rate: u32,
    seconds: u64,
    next_invoice: &mut usize,
) -> Run {
    let total = (rate as u64 * seconds) as usize;
    let results = Arc::new(Mutex::new(Run {
        sent: total,
        latencies_us: Vec::with_capacity(total),
        ..Run::default()
    }));
    let url = Arc::new(format!("http://{site}/api/checkout/token"));
    let interval = Duration::from_secs(1) / rate;
    let start = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let invoice = format!("inv_b{:05}", *next_invoice % INVOICES);
        let first = *next_invoice < INVOICES;
        *next_invoice += 1;
        let (http, url, cookie, results) = (
            http.clone(),
            url.clone(),
            cookies[i % cookies.len()].clone(),
            results.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let status = http
                .post(url.as_str())
                .header("cookie", cookie)
                .form(&[("invoice_id", invoice.as_str())])
                .send()
                .await
                .map(|r| (r.status(), r.headers().contains_key("retry-after")));
            let took = due.elapsed().as_micros() as u64;
            let mut results = results.lock().await;
            match status {
                Ok((status, _)) if status.is_success() => {
                    results.latencies_us.push(took);
                    if first {
                        results.first_mints_us.push(took);
                    }
                }
                Ok((reqwest::StatusCode::SERVICE_UNAVAILABLE, true)) => results.busy += 1,
                _ => results.errors += 1,
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut run = std::mem::take(&mut *results.lock().await);
    run.elapsed = start.elapsed();
    run.latencies_us.sort_unstable();
    run.first_mints_us.sort_unstable();
    run
}
