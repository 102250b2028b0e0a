//! More load than the server takes: the vendor slows down (every answer
//! 200 ms late), so each invoice read holds its request that long, and
//! hundreds of clients send them back to back at a release server that
//! works on at most 64 requests at once (`MERCHANT_MAX_IN_FLIGHT`). The
//! excess must be answered at once "busy" (503, `Retry-After`), never
//! queued, never an error or a timeout; the server's memory stays bounded;
//! and once the load is gone every request is served again.
//!
//! (A server that answers everything from memory keeps few requests in
//! flight however many clients wait: its queue is the CPU's, before any
//! handler runs. What grows without a limit is work waiting on something
//! slow — the vendor here, Redis in a fleet.)

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::process::{Process, SERVER};
use drivers::setup::{self, invoice_ids};
use drivers::{percentile, Error};
use tokio::sync::Mutex;

use crate::report::Section;
use crate::{Length, WORK_DIR};

const SITE: &str = "127.0.0.1:3408";
const SANDBOX: &str = "127.0.0.1:3438";
/// Small enough that this machine's clients can fill it.
const MAX_IN_FLIGHT: usize = 64;
/// How late the vendor answers, so that each request stays in flight.
const VENDOR_LATENCY_MS: u64 = 200;
/// The most the server's memory may grow under the flood.
const RSS_BOUND_MIB: u64 = 96;

pub struct Plan {
    clients: usize,
    seconds: u64,
}

impl Plan {
    pub fn for_length(length: Length) -> Self {
        match length {
            Length::Short => Self {
                clients: 400,
                seconds: 10,
            },
            Length::Long => Self {
                clients: 1_000,
                seconds: 60,
            },
        }
    }
}

/// What the clients were told: the latency of each kind of answer (µs).
#[derive(Default)]
struct Answers {
    served_us: Vec<u64>,
    busy_us: Vec<u64>,
    /// Anything else: another status, a transport error, a timeout.
    other: Vec<String>,
}

pub async fn run(http: &reqwest::Client, plan: Plan) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("overload");
    let invoices = invoice_ids("inv_o", 50);
    let mut env = setup::flooded_server_env(&dir, &invoices, SITE, SANDBOX).await?;
    env.extend([
        ("MERCHANT_MAX_IN_FLIGHT", MAX_IN_FLIGHT.to_string()),
        ("SANDBOX_FAULT_LATENCY_MS", VENDOR_LATENCY_MS.to_string()),
    ]);
    let mut server = Process::spawn(SERVER, &env, Some(&dir.join("server.log")))?;
    server
        .wait_ready(http, &format!("http://{SITE}/healthz"))
        .await?;
    let cookies = setup::log_in(http, SITE, 20).await?;
    let idle_rss = server.rss_mib();

    let answers = Arc::new(Mutex::new(Answers::default()));
    let deadline = Instant::now() + Duration::from_secs(plan.seconds);
    let clients: Vec<_> = (0..plan.clients)
        .map(|n| {
            let (http, answers) = (http.clone(), answers.clone());
            let cookie = cookies[n % cookies.len()].clone();
            let invoice = invoices[n % invoices.len()].clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let answer = timed_read(&http, &cookie, &invoice).await;
                    answers.lock().await.add(answer);
                }
            })
        })
        .collect();
    let mut peak_rss = idle_rss;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak_rss = peak_rss.max(server.rss_mib());
    }
    for client in clients {
        client.await?;
    }
    // The load is gone: served again, at once — half the limit's worth of
    // reads at the same time.
    let recovered_in = Instant::now();
    let reads: Vec<_> = invoices
        .iter()
        .take(MAX_IN_FLIGHT / 2)
        .map(|invoice| {
            let (http, cookie, invoice) = (http.clone(), cookies[0].clone(), invoice.clone());
            tokio::spawn(async move { timed_read(&http, &cookie, &invoice).await })
        })
        .collect();
    let mut recovery = Vec::with_capacity(reads.len());
    for read in reads {
        recovery.push(read.await.unwrap_or_else(|e| Err(e.to_string())));
    }
    let recovered_in = recovered_in.elapsed();
    server.interrupt();
    let answers = std::mem::take(&mut *answers.lock().await);
    Ok(report(
        &plan,
        answers,
        idle_rss,
        peak_rss,
        &recovery,
        recovered_in,
    ))
}

impl Answers {
    fn add(&mut self, answer: Result<(u16, u64), String>) {
        match answer {
            Ok((200, us)) => self.served_us.push(us),
            Ok((503, us)) => self.busy_us.push(us),
            Ok((status, _)) => self.other.push(format!("HTTP {status}")),
            Err(error) => self.other.push(error),
        }
    }
}

fn report(
    plan: &Plan,
    mut answers: Answers,
    idle_rss: u64,
    peak_rss: u64,
    recovery: &[Result<(u16, u64), String>],
    recovered_in: Duration,
) -> Section {
    answers.served_us.sort_unstable();
    answers.busy_us.sort_unstable();
    let (served, busy) = (&answers.served_us, &answers.busy_us);
    let mut section = Section::default();
    section.fact(format!(
        "{} clients sending invoice reads back to back for {} s, the vendor answering \
         {VENDOR_LATENCY_MS} ms late, at a release server that works on at most \
         {MAX_IN_FLIGHT} requests at once: {} served (p50 {:.1} ms, \
         p99 {:.1} ms), {} answered busy (p50 {:.1} ms, p99 {:.1} ms), {} other",
        plan.clients,
        plan.seconds,
        served.len(),
        percentile(served, 50.0),
        percentile(served, 99.0),
        busy.len(),
        percentile(busy, 50.0),
        percentile(busy, 99.0),
        answers.other.len()
    ));
    section.check(
        "every request was served or answered busy: no error, no timeout",
        answers.other.is_empty() && !served.is_empty(),
        format!("{} other {:?}", answers.other.len(), answers.other.first()),
    );
    section.check(
        "the excess was answered busy, and at once: faster than what was served",
        !busy.is_empty() && percentile(busy, 99.0) <= percentile(served, 99.0),
        format!(
            "{} busy, p99 {:.1} ms against served p99 {:.1} ms",
            busy.len(),
            percentile(busy, 99.0),
            percentile(served, 99.0)
        ),
    );
    section.check(
        format!("the server's memory stayed bounded: at most {RSS_BOUND_MIB} MiB over idle"),
        peak_rss <= idle_rss + RSS_BOUND_MIB,
        format!("{idle_rss} MiB idle, {peak_rss} MiB at the peak"),
    );
    let all_served = recovery.iter().all(|r| matches!(r, Ok((200, _))));
    section.check(
        format!(
            "once the load was gone, {} reads at once were all served",
            recovery.len()
        ),
        all_served,
        format!("in {:.2} s", recovered_in.as_secs_f64()),
    );
    section
}

/// The invoice read (`POST /api/checkout/invoice`: the server mints, or
/// reuses, a token and reads the invoice at the vendor with it): its status
/// and how long it took (µs), or why it got no answer.
async fn timed_read(
    http: &reqwest::Client,
    cookie: &str,
    invoice: &str,
) -> Result<(u16, u64), String> {
    let started = Instant::now();
    let response = http
        .post(format!("http://{SITE}/api/checkout/invoice"))
        .header("cookie", cookie)
        .form(&[("invoice_id", invoice)])
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = response.status().as_u16();
    let busy_said = response.headers().contains_key("retry-after");
    let _ = response.bytes().await;
    if status == 503 && !busy_said {
        return Err("503 without Retry-After".to_owned());
    }
    Ok((status, started.elapsed().as_micros() as u64))
}
