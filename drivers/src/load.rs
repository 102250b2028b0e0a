//! Open-loop load on the mint endpoint, for the loadtest: request `i` is
//! due at `start + i / rate` whether or not earlier ones have answered, and
//! its latency counts from when it was due.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// What one rate of load saw.
#[derive(Default)]
pub struct Run {
    pub sent: usize,
    pub errors: usize,
    /// Every answered mint, sorted.
    pub latencies_us: Vec<u64>,
    /// Only the first mint of each invoice: the ones that go to the vendor
    /// (later ones get the token back until its reuse floor is left).
    pub first_mints_us: Vec<u64>,
    /// Answered "busy, retry in N s" (503 with `Retry-After`): over the
    /// vendor's quota, not an error.
    pub busy: usize,
    pub elapsed: Duration,
}

/// `rate` mints a second for `seconds` to `site`'s mint endpoint, each for
/// the next of `invoices` invoices (`next_invoice` counts on across calls:
/// an invoice's first mint is told apart) and a session of `cookies`.
pub async fn run_at(
    http: &reqwest::Client,
    site: &str,
    cookies: &[String],
    rate: u32,
    seconds: u64,
    invoices: usize,
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
        let invoice = format!("inv_b{:05}", *next_invoice % invoices);
        let first = *next_invoice < invoices;
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
