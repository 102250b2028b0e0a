//! The release site against a vendor in a process of its own (the
//! standalone sandbox, configured as a real vendor would be), both logging
//! at `debug`. One checkout is driven over HTTP as a browser would — log
//! in, the pages and every asset they name, a mint, the vendor calls, a
//! payment — then every served page and asset and both logs are searched
//! for the client secret, any OAuth access token and every checkout token
//! issued. (`end2end/tests/secrets.spec.ts` does the same for what a real
//! browser receives while the wasm runs.)

use std::path::Path;

use drivers::process::{Process, SERVER};
use drivers::setup;
use drivers::Error;
use serde_json::{json, Value};

use crate::report::Section;
use crate::WORK_DIR;

const SITE: &str = "127.0.0.1:3403";
const SANDBOX: &str = "127.0.0.1:3433";
const CLIENT_SECRET: &str = "demo_client_secret";
/// Every OAuth access token the sandbox issues starts with this.
const OAUTH_TOKEN_PREFIX: &str = "sbx_oat_";

pub async fn run(http: &reqwest::Client) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("secrets");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let (sandbox_log, server_log) = (dir.join("sandbox.log"), dir.join("server.log"));
    let mut sandbox = Process::spawn(
        "target/release/sandbox",
        &[
            ("SANDBOX_ADDR", SANDBOX.to_owned()),
            ("SANDBOX_DATABASE_URL", "sqlite::memory:".to_owned()),
            ("SANDBOX_ALLOWED_ORIGINS", format!("http://{SITE}")),
            ("RUST_LOG", "debug".to_owned()),
        ],
        Some(&sandbox_log),
    )?;
    sandbox
        .wait_ready(http, &format!("http://{SANDBOX}/.well-known/jwks.json"))
        .await?;
    let mut env = setup::server_env(SITE, "127.0.0.1:0");
    env.extend([
        ("ALTERNATIVE_API_URL", format!("http://{SANDBOX}")),
        ("ALTERNATIVE_CLIENT_ID", "demo_client_id".to_owned()),
        ("ALTERNATIVE_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("MERCHANT_DATABASE_URL", "sqlite::memory:".to_owned()),
        ("RUST_LOG", "debug".to_owned()),
    ]);
    let mut server = Process::spawn(SERVER, &env, Some(&server_log))?;
    server
        .wait_ready(http, &format!("http://{SITE}/healthz"))
        .await?;
    let checkout = checkout(http).await;
    // Stopped before reading, so every log line is written.
    server.interrupt();
    sandbox.interrupt();
    let Checkout {
        served,
        tokens,
        mint_answers,
    } = checkout?;

    let logs = [("server", server_log), ("sandbox", sandbox_log)];
    report(&served, &tokens, &mint_answers, &logs)
}

/// Searches every served byte and both logs for the client secret, any
/// OAuth token and each checkout token, after checking the search finds
/// what is there.
fn report(
    served: &[(String, Vec<u8>)],
    tokens: &[String],
    mint_answers: &[u8],
    logs: &[(&str, std::path::PathBuf)],
) -> Result<Section, Error> {
    let mut needles = vec![CLIENT_SECRET.to_owned(), OAUTH_TOKEN_PREFIX.to_owned()];
    for token in tokens {
        // The whole token, and its signature alone: a log that cut the
        // token up would still show that.
        needles.push(token.clone());
        needles.extend(token.rsplit('.').next().map(str::to_owned));
    }
    let mut section = Section::default();
    let kinds = |suffix: &str| {
        served
            .iter()
            .filter(|(url, _)| url.ends_with(suffix))
            .count()
    };
    section.fact(format!(
        "searched for: the client secret, the `{OAUTH_TOKEN_PREFIX}` prefix of every \
         OAuth access token, and the {} checkout tokens issued (whole, and their \
         signatures alone)",
        tokens.len()
    ));
    section.fact(format!(
        "served: {} responses ({} pages, {} .js, {} .wasm, {} .css)",
        served.len(),
        served
            .iter()
            .filter(|(url, _)| !url.contains("/pkg/"))
            .count(),
        kinds(".js"),
        kinds(".wasm"),
        kinds(".css"),
    ));
    section.check(
        "the checkout was driven to the end: pages, js and wasm fetched, tokens issued, paid",
        kinds(".js") > 0 && kinds(".wasm") > 0 && tokens.len() == 2,
        format!("{} responses, {} tokens", served.len(), tokens.len()),
    );
    let control = found(mint_answers, &needles).count();
    section.check(
        "the search finds what is there: each token (whole and signature) in the mint answers",
        control == 2 * tokens.len(),
        format!("{control} of {} found", 2 * tokens.len()),
    );
    let hits: Vec<String> = served
        .iter()
        .flat_map(|(url, body)| found(body, &needles).map(move |n| format!("{url}: {n}")))
        .collect();
    section.check(
        "no served page or asset holds a secret or a token",
        hits.is_empty(),
        format!("{} hits {:?}", hits.len(), hits.first()),
    );
    for (name, log) in logs {
        let text = std::fs::read(log)?;
        let lines = text.split(|b| *b == b'\n').count();
        let hits: Vec<String> = found(&text, &needles).collect();
        section.check(
            format!("the {name} log (RUST_LOG=debug) holds no secret and no token"),
            hits.is_empty() && lines > 10,
            format!("{lines} lines; {} hits {:?}", hits.len(), hits.first()),
        );
    }
    Ok(section)
}

/// Which of `needles` occur in `haystack` (shortened for the report).
fn found<'a>(haystack: &'a [u8], needles: &'a [String]) -> impl Iterator<Item = String> + 'a {
    needles
        .iter()
        .filter(|n| haystack.windows(n.len()).any(|w| w == n.as_bytes()))
        .map(|n| format!("{}…", &n[..n.len().min(12)]))
}

struct Checkout {
    /// Every page and asset the site served: URL and body.
    served: Vec<(String, Vec<u8>)>,
    /// Every checkout token handed out.
    tokens: Vec<String>,
    /// The mint answers, which do hold the tokens: the search's control.
    mint_answers: Vec<u8>,
}

async fn checkout(http: &reqwest::Client) -> Result<Checkout, Error> {
    let site = format!("http://{SITE}");
    let mut served = Vec::new();
    let get = |url: String, cookie: Option<String>| async move {
        let mut request = http.get(&url);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let body = request.send().await?.error_for_status()?.bytes().await?;
        Ok::<_, Error>((url, body.to_vec()))
    };
    served.push(get(format!("{site}/login"), None).await?);
    let cookie = setup::log_in(http, SITE, 1).await?.remove(0);
    served.push(get(format!("{site}/"), Some(cookie.clone())).await?);
    let page = get(format!("{site}/checkout/inv_1001"), Some(cookie.clone())).await?;
    let assets: Vec<String> = String::from_utf8_lossy(&page.1)
        .split('"')
        .filter(|s| s.starts_with("/pkg/"))
        .map(str::to_owned)
        .collect();
    served.push(page);
    for asset in assets {
        served.push(get(format!("{site}{asset}"), None).await?);
        // The wasm is named by the JS glue, not the page.
        if asset.ends_with(".js") {
            let wasm = asset.trim_end_matches(".js").to_owned() + "_bg.wasm";
            if let Ok(fetched) = get(format!("{site}{wasm}"), None).await {
                served.push(fetched);
            }
        }
    }

    let (mut tokens, mut mint_answers) = (Vec::new(), Vec::new());
    for invoice in ["inv_1001", "inv_1002"] {
        let answer = http
            .post(format!("{site}/api/checkout/token"))
            .header("cookie", &cookie)
            .form(&[("invoice_id", invoice)])
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let minted: Value = serde_json::from_slice(&answer)?;
        tokens.push(minted["token"].as_str().ok_or("no token")?.to_owned());
        mint_answers.extend_from_slice(&answer);
    }
    let vendor = format!("http://{SANDBOX}/checkout/v1");
    for path in ["invoice", "payment-methods", "invoice/pdf-link"] {
        http.get(format!("{vendor}/{path}"))
            .bearer_auth(&tokens[0])
            .send()
            .await?
            .error_for_status()?;
    }
    http.post(format!("{vendor}/payments"))
        .bearer_auth(&tokens[0])
        .header("idempotency-key", "secrets-drill")
        .json(&json!({"payment_method_id": "pm_acme_visa", "amount": "1250.00"}))
        .send()
        .await?
        .error_for_status()?;
    Ok(Checkout {
        served,
        tokens,
        mint_answers,
    })
}
