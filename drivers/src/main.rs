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
//! `LOADTEST_FLOOR=1` then sends the same steps, in the same run, to the
//! floor (`target/release/floor`: a bare axum endpoint of the mint's shape
//! answering from memory) and prints, per rate, the server's CPU per mint
//! as a multiple of the floor's per request.
//!
//! Build first (`cargo leptos build --release`, and for a fleet or the
//! floor `cargo build --release -p sandbox -p drivers`): this starts the
//! servers itself and stops them at the end.

use std::path::Path;
use std::time::{Duration, Instant};

use drivers::fleet::{Fleet, Plan};
use drivers::load::run_at;
use drivers::process::{cpu_us, rss_mib, Process, SERVER};
use drivers::setup::{self, invoice_ids};
use drivers::{percentile, Error};

const SITE: &str = "127.0.0.1:3300";
const SANDBOX: &str = "127.0.0.1:3330";
const FLOOR: &str = "127.0.0.1:3390";
const INVOICES: usize = 10_000;
const SESSIONS: usize = 32;
/// How long each rate runs; `LOADTEST_SECONDS` overrides (600 for the
/// memory soak in BENCHMARKS.md).
const SECONDS_PER_RATE: u64 = 20;
const WORK_DIR: &str = "target/loadtest";
const FLOOR_BIN: &str = "target/release/floor";

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
    let steps: Vec<Step> = steps
        .into_iter()
        .map(|(rate, step_seconds)| Step {
            rate,
            seconds: step_seconds.unwrap_or(seconds),
        })
        .collect();
    let measured = run_steps(&http, &target, &cookies, &steps).await?;
    for line in measured.iter().filter_map(|row| row.first_mints.as_ref()) {
        println!("{line}");
    }
    if let Some(sandbox) = target.sandbox() {
        let total = setup::sandbox_stats(&http, &sandbox).await?;
        println!(
            "OAuth token requests over the whole run: {} (one per OAuth lifetime: 3600 s)",
            total["oauth_tokens_issued"]
        );
    }
    if std::env::var("LOADTEST_FLOOR").is_ok_and(|v| v == "1") {
        drop(target);
        let floor = Target::floor(&http).await?;
        println!("\nThe same steps against the floor ({FLOOR}, target/release/floor):");
        let floored = run_steps(&http, &floor, &cookies, &steps).await?;
        print_ratios(&measured, &floored);
    }
    Ok(())
}

/// Every step against `target`, its table printed as it goes.
async fn run_steps(
    http: &reqwest::Client,
    target: &Target,
    cookies: &[String],
    steps: &[Step],
) -> Result<Vec<Measured>, Error> {
    println!(
        "| rate /s | sent | ok | busy | errors | throughput /s | p50 ms | p99 ms | p99.9 ms | max ms | vendor inits | OAuth requests | refused by the vendor | server CPU µs/mint | RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut next_invoice = 0;
    let mut measured = Vec::with_capacity(steps.len());
    for step in steps {
        measured.push(step.run(http, target, cookies, &mut next_invoice).await?);
    }
    Ok(measured)
}

/// The server's cost per mint as a multiple of the floor's, rate by rate.
fn print_ratios(server: &[Measured], floor: &[Measured]) {
    println!("\n| rate /s | server CPU µs/mint | floor CPU µs/request | ratio | server p99 ms | floor p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (server, floor) in server.iter().zip(floor) {
        println!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.2} | {:.2} |",
            server.rate,
            server.cpu_us_per_answer,
            floor.cpu_us_per_answer,
            server.cpu_us_per_answer / floor.cpu_us_per_answer,
            server.p99_ms,
            floor.p99_ms,
        );
    }
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

/// What a step measured, beyond its table row.
struct Measured {
    rate: u32,
    cpu_us_per_answer: f64,
    p99_ms: f64,
    /// The first mints' line, if any invoice was minted for the first time.
    first_mints: Option<String>,
}

impl Step {
    /// Sends the load, prints its table row, and returns what it measured.
    async fn run(
        &self,
        http: &reqwest::Client,
        target: &Target,
        cookies: &[String],
        next_invoice: &mut usize,
    ) -> Result<Measured, Error> {
        let Self { rate, seconds } = *self;
        let before = target.vendor_stats(http).await?;
        let cpu_before = target.cpu_us();
        let run = run_at(
            http,
            &target.site(),
            cookies,
            rate,
            seconds,
            INVOICES,
            next_invoice,
        )
        .await;
        let cpu = target.cpu_us() - cpu_before;
        let after = target.vendor_stats(http).await?;
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
        let cpu_us_per_answer = cpu as f64 / answered.max(1) as f64;
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
            cpu_us_per_answer,
            target.rss_mib(),
        );
        let first = &run.first_mints_us;
        Ok(Measured {
            rate,
            cpu_us_per_answer,
            p99_ms: percentile(&run.latencies_us, 99.0),
            first_mints: (!first.is_empty() && target.sandbox().is_some()).then(|| format!(
                "first mints of an invoice (each a vendor call) at {rate}/s: n={}, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
                first.len(),
                percentile(first, 50.0),
                percentile(first, 99.0),
                percentile(first, 99.9),
            )),
        })
    }
}

/// What the load is sent to: one server with its embedded sandbox, a
/// fleet behind its balancer, or the floor. Dropping it stops them.
enum Target {
    Single(Process),
    Fleet(Box<Fleet>),
    Floor(Process),
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
            redis_line_port: None,
            database: "loadtest_fleet",
            vendor_quota,
            invoices: invoices.to_vec(),
            env,
            dir: Path::new(WORK_DIR).join("fleet"),
        };
        Ok(Self::Fleet(Box::new(Fleet::start(http, plan).await?)))
    }

    async fn floor(http: &reqwest::Client) -> Result<Self, Error> {
        let mut floor = Process::spawn(FLOOR_BIN, &[("FLOOR_ADDR", FLOOR.to_owned())], None)?;
        floor
            .wait_ready(http, &format!("http://{FLOOR}/healthz"))
            .await?;
        Ok(Self::Floor(floor))
    }

    fn site(&self) -> String {
        match self {
            Self::Single(_) => SITE.to_owned(),
            Self::Fleet(fleet) => fleet.plan.balancer(),
            Self::Floor(_) => FLOOR.to_owned(),
        }
    }

    /// The vendor's address; the floor has none.
    fn sandbox(&self) -> Option<String> {
        match self {
            Self::Single(_) => Some(SANDBOX.to_owned()),
            Self::Fleet(fleet) => Some(fleet.plan.sandbox()),
            Self::Floor(_) => None,
        }
    }

    /// The vendor's counters now (`null` for the floor: every count 0).
    async fn vendor_stats(&self, http: &reqwest::Client) -> Result<serde_json::Value, Error> {
        match self.sandbox() {
            Some(sandbox) => setup::sandbox_stats(http, &sandbox).await,
            None => Ok(serde_json::Value::Null),
        }
    }

    /// The merchant's server processes (not the sandbox, nginx or Redis),
    /// or the floor's.
    fn pids(&self) -> Vec<u32> {
        match self {
            Self::Single(server) | Self::Floor(server) => vec![server.pid()],
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
