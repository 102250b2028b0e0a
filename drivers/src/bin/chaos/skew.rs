//! The vendor's clock minutes away from the merchant's (the sandbox runs
//! with `SANDBOX_CLOCK_OFFSET_SECS`), and checkout still works: a token is
//! minted, its lifetime is reported as the vendor meant it, the vendor takes
//! it, and a payment goes through.

use std::path::Path;

use drivers::process::{Process, SERVER};
use drivers::setup;
use drivers::Error;
use serde_json::{json, Value};

use crate::report::Section;
use crate::WORK_DIR;

const SITE: &str = "127.0.0.1:3402";
const SANDBOX: &str = "127.0.0.1:3432";
/// The sandbox's checkout token lifetime (its default).
const TOKEN_TTL_SECS: u64 = 900;

pub async fn run(http: &reqwest::Client) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("skew");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut section = Section::default();
    section.fact(
        "The merchant never compares its clock with the vendor's: a token's lifetime is \
         its `expires_at` minus the `Date` of the vendor's answer (both the vendor's clock), \
         the page counts from the `expires_in` it is given (its own clock), and only the \
         vendor judges expiry, with its 5 s leeway for a call whose token expires in flight. \
         So minutes of skew cost nothing, and the leeway stays small.",
    );
    for offset in [300i64, -300, 3_600] {
        let mut env = setup::server_env(SITE, SANDBOX);
        env.extend([
            ("SANDBOX_DATABASE_URL", "sqlite::memory:".to_owned()),
            ("SANDBOX_CLOCK_OFFSET_SECS", offset.to_string()),
            ("MERCHANT_DATABASE_URL", "sqlite::memory:".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ]);
        let log = dir.join(format!("server{offset:+}.log"));
        let mut server = Process::spawn(SERVER, &env, Some(&log))?;
        server
            .wait_ready(http, &format!("http://{SITE}/healthz"))
            .await?;
        let result = checkout(http).await;
        server.interrupt();
        let (expires_in, invoice, payment) = result?;
        section.fact(format!(
            "vendor clock {offset:+} s: the page was told {expires_in} s of the token's \
             {TOKEN_TTL_SECS} s; invoice read: HTTP {invoice}; payment: HTTP {payment}"
        ));
        section.check(
            format!("vendor clock {offset:+} s: the token's lifetime is reported as the vendor meant it"),
            expires_in.abs_diff(TOKEN_TTL_SECS) <= 5,
            format!("expires_in {expires_in} s, lifetime {TOKEN_TTL_SECS} s"),
        );
        section.check(
            format!(
                "vendor clock {offset:+} s: the vendor takes the token; the payment goes through"
            ),
            invoice == 200 && payment == 201,
            format!("invoice HTTP {invoice}, payment HTTP {payment}"),
        );
    }
    Ok(section)
}

/// Log in, mint for inv_1001, read it and pay it with the token: the
/// reported lifetime and the two statuses.
async fn checkout(http: &reqwest::Client) -> Result<(u64, u16, u16), Error> {
    let cookie = setup::log_in(http, SITE, 1).await?.remove(0);
    let minted: Value = http
        .post(format!("http://{SITE}/api/checkout/token"))
        .header("cookie", cookie)
        .form(&[("invoice_id", "inv_1001")])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = minted["token"].as_str().ok_or("no token")?;
    let expires_in = minted["expires_in"].as_u64().ok_or("no expires_in")?;
    let invoice = http
        .get(format!("http://{SANDBOX}/checkout/v1/invoice"))
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16();
    let payment = http
        .post(format!("http://{SANDBOX}/checkout/v1/payments"))
        .bearer_auth(token)
        .header("idempotency-key", "skew-drill")
        .json(&json!({"payment_method_id": "pm_acme_visa", "amount": "1250.00"}))
        .send()
        .await?
        .status()
        .as_u16();
    Ok((expires_in, invoice, payment))
}
