//! A thousand clients at once, each like a checkout page: mint a token,
//! call the vendor with it every couple of seconds, refresh it a margin
//! before it expires (as the SDK does), and on `access_token_expired` mint
//! again and retry once. Tokens live seconds, not minutes, so refreshes
//! never stop. From the clients' side no vendor call may fail; the vendor
//! sees one OAuth request per OAuth lifetime; the server's memory stays flat.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::process::{Process, SERVER};
use drivers::setup::{self, invoice_ids};
use drivers::Error;
use rand::Rng;
use serde_json::Value;

use crate::report::Section;
use crate::{Length, WORK_DIR};

const SITE: &str = "127.0.0.1:3400";
const SANDBOX: &str = "127.0.0.1:3431";

pub struct Plan {
    clients: usize,
    seconds: u64,
    /// Clients share sessions (tabs of one browser) and invoices (tabs of
    /// one checkout), as real pages do.
    sessions: usize,
    invoices: usize,
    token_ttl_secs: u64,
    oauth_ttl_secs: u64,
    /// Each client calls the vendor this often, ± a quarter.
    call_every: Duration,
}

impl Plan {
    pub fn for_length(length: Length) -> Self {
        let long = Self {
            clients: 1_000,
            seconds: 120,
            sessions: 50,
            invoices: 250,
            token_ttl_secs: 20,
            // The shortest the merchant caches for a real refresh: used for
            // 20 s each (it renews min(60 s, half) before expiry).
            oauth_ttl_secs: 40,
            call_every: Duration::from_secs(2),
        };
        match length {
            Length::Long => long,
            Length::Short => Self {
                seconds: 30,
                ..long
            },
        }
    }
}

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    failed_calls: AtomicU64,
    /// Calls answered `access_token_expired` that succeeded after one
    /// refresh and retry (the handler's path).
    recovered: AtomicU64,
    mints: AtomicU64,
    failed_mints: AtomicU64,
}

pub async fn run(http: &reqwest::Client, plan: Plan) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("flood");
    let invoices = invoice_ids("inv_f", plan.invoices);
    // A thousand pages from one address, with lifetimes this short, are
    // far over the real per-key limits: both sides' limits are off.
    let mut env = setup::flooded_server_env(&dir, &invoices, SITE, SANDBOX).await?;
    env.extend([
        (
            "SANDBOX_CHECKOUT_TOKEN_TTL_SECS",
            plan.token_ttl_secs.to_string(),
        ),
        (
            "SANDBOX_OAUTH_TOKEN_TTL_SECS",
            plan.oauth_ttl_secs.to_string(),
        ),
    ]);
    let mut server = Process::spawn(SERVER, &env, Some(&dir.join("server.log")))?;
    server
        .wait_ready(http, &format!("http://{SITE}/healthz"))
        .await?;
    let idle_rss = server.rss_mib();
    let cookies = setup::log_in(http, SITE, plan.sessions).await?;
    let before = setup::sandbox_stats(http, SANDBOX).await?;

    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);
    let mut clients = Vec::with_capacity(plan.clients);
    for i in 0..plan.clients {
        let client = Client {
            http: http.clone(),
            cookie: cookies[i % cookies.len()].clone(),
            invoice_id: invoices[i % invoices.len()].clone(),
            counts: counts.clone(),
            call_every: plan.call_every,
        };
        clients.push(tokio::spawn(client.run(deadline)));
    }
    // Memory every 5 s while the clients run.
    let mut rss = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(5)).await;
        rss.push((started.elapsed().as_secs(), server.rss_mib()));
    }
    for client in clients {
        client.await?;
    }
    let after = setup::sandbox_stats(http, SANDBOX).await?;
    server.interrupt();

    let vendor =
        |name: &str| after[name].as_u64().unwrap_or(0) - before[name].as_u64().unwrap_or(0);
    let seen = Seen {
        checkout_tokens: vendor("checkout_tokens_issued"),
        oauth_tokens: vendor("oauth_tokens_issued"),
        idle_rss,
        rss,
    };
    Ok(report(&plan, &counts, &seen))
}

/// What the vendor's counters and the server's memory showed.
struct Seen {
    checkout_tokens: u64,
    oauth_tokens: u64,
    idle_rss: u64,
    /// (seconds into the run, MiB) every 5 s.
    rss: Vec<(u64, u64)>,
}

fn report(plan: &Plan, counts: &Counts, seen: &Seen) -> Section {
    let Seen {
        checkout_tokens,
        oauth_tokens,
        idle_rss,
        rss,
    } = seen;
    let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
    let mut section = Section::default();
    section.fact(format!(
        "{} clients for {} s ({} sessions, {} invoices: {} clients per checkout), \
         a vendor call each every {:?} ± 25 %; checkout tokens live {} s, OAuth tokens {} s; \
         release server with the embedded sandbox, rate limits off on both sides",
        plan.clients,
        plan.seconds,
        plan.sessions,
        plan.invoices,
        plan.clients / plan.invoices,
        plan.call_every,
        plan.token_ttl_secs,
        plan.oauth_ttl_secs
    ));
    section.fact(format!(
        "{} vendor calls, {} mints (first and refreshes), {} calls recovered after \
         `access_token_expired` by one refresh; the vendor minted {} checkout tokens",
        get(&counts.calls),
        get(&counts.mints),
        get(&counts.recovered),
        checkout_tokens,
    ));
    section.fact(format!(
        "server RSS: {idle_rss} MiB idle; every 5 s under load: {}",
        rss.iter()
            .map(|(t, mib)| format!("{t} s {mib}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    section.check(
        "no vendor call failed from the clients' point of view",
        get(&counts.failed_calls) == 0 && get(&counts.calls) > 0,
        format!(
            "{} of {} failed",
            get(&counts.failed_calls),
            get(&counts.calls)
        ),
    );
    section.check(
        "no mint failed",
        get(&counts.failed_mints) == 0,
        format!(
            "{} of {} failed",
            get(&counts.failed_mints),
            get(&counts.mints)
        ),
    );
    // The merchant renews its OAuth token min(60 s, half its life) before it
    // expires, and only when a mint needs one: however many clients, at most
    // one request per such period (a stampede would show as many more).
    let used_for = plan.oauth_ttl_secs - 60.min(plan.oauth_ttl_secs / 2);
    let oauth = *oauth_tokens;
    let most = plan.seconds / used_for + 1;
    section.check(
        "one OAuth request per OAuth lifetime, whatever the concurrency",
        (1..=most).contains(&oauth),
        format!(
            "{oauth} requests in {} s, each token renewed after {used_for} s: at most {most}",
            plan.seconds
        ),
    );
    // Flat: the last third's peak within 15 % of the second third's.
    let third = rss.len() / 3;
    let peak = |part: &[(u64, u64)]| part.iter().map(|(_, mib)| *mib).max().unwrap_or(0);
    let (middle, last) = (peak(&rss[third..2 * third]), peak(&rss[2 * third..]));
    section.check(
        "memory flat under the flood",
        third > 0 && last * 100 <= middle * 115,
        format!("peak {middle} MiB in the middle third, {last} MiB in the last"),
    );
    section
}

struct Client {
    http: reqwest::Client,
    cookie: String,
    invoice_id: String,
    counts: Arc<Counts>,
    call_every: Duration,
}

struct Token {
    value: String,
    refresh_at: Instant,
}

impl Client {
    async fn run(self, deadline: Instant) {
        let mut token = None;
        // Pages do not all open in the same millisecond.
        let stagger = rand::rng().random_range(0..self.call_every.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(stagger)).await;
        while Instant::now() < deadline {
            let due = token
                .as_ref()
                .is_none_or(|t: &Token| Instant::now() >= t.refresh_at);
            if due {
                token = self.mint().await.or(token);
            }
            if let Some(value) = token.as_ref().map(|t| t.value.clone()) {
                self.call(&value, &mut token).await;
            }
            let quarter = self.call_every.as_millis() as u64 / 4;
            let pause = self.call_every.as_millis() as u64 - quarter
                + rand::rng().random_range(0..=2 * quarter);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    /// A token from the merchant, due for refresh as the SDK would time it.
    async fn mint(&self) -> Option<Token> {
        self.counts.mints.fetch_add(1, Ordering::Relaxed);
        let minted: Option<Value> = async {
            let response = self
                .http
                .post(format!("http://{SITE}/api/checkout/token"))
                .header("cookie", &self.cookie)
                .form(&[("invoice_id", self.invoice_id.as_str())])
                .send()
                .await
                .ok()?;
            response.error_for_status().ok()?.json().await.ok()
        }
        .await;
        let Some(minted) = minted else {
            self.counts.failed_mints.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let expires_in = Duration::from_secs(minted["expires_in"].as_u64().unwrap_or(0));
        // The SDK's margin: a minute, or a quarter of the lifetime if shorter.
        let margin = Duration::from_secs(60).min(expires_in / 4);
        Some(Token {
            value: minted["token"].as_str().unwrap_or_default().to_owned(),
            refresh_at: Instant::now() + expires_in - margin,
        })
    }

    /// One vendor call; on `access_token_expired`, one refresh and one retry.
    async fn call(&self, value: &str, token: &mut Option<Token>) {
        self.counts.calls.fetch_add(1, Ordering::Relaxed);
        let ok = match self.get_invoice(value).await {
            Answer::Ok => true,
            Answer::Failed => false,
            Answer::Expired => match self.mint().await {
                Some(fresh) => {
                    let ok = matches!(self.get_invoice(&fresh.value).await, Answer::Ok);
                    if ok {
                        self.counts.recovered.fetch_add(1, Ordering::Relaxed);
                    }
                    *token = Some(fresh);
                    ok
                }
                None => false,
            },
        };
        if !ok {
            self.counts.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn get_invoice(&self, token: &str) -> Answer {
        let Ok(response) = self
            .http
            .get(format!("http://{SANDBOX}/checkout/v1/invoice"))
            .bearer_auth(token)
            .send()
            .await
        else {
            return Answer::Failed;
        };
        if response.status().is_success() {
            return Answer::Ok;
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if body["code"] == "access_token_expired" {
            Answer::Expired
        } else {
            Answer::Failed
        }
    }
}

enum Answer {
    Ok,
    Expired,
    Failed,
}
