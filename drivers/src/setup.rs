//! What a run needs around the server: invoices on both sides, logged-in
//! sessions, the environment of the release server, the sandbox's counters.

use std::path::Path;

use crate::Error;

/// The demo customer every generated invoice belongs to (alice's).
pub const CUSTOMER: &str = "cus_acme";

/// `n` invoice ids, `{prefix}00000`…
pub fn invoice_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:05}")).collect()
}

/// A fresh merchant database at `path` with the demo users and `invoices`
/// more of alice's (10.00 USD each), recorded as a merchant would: by the
/// release server's `invoices import`. Returns its URL.
pub async fn merchant_db(path: &Path, invoices: &[String]) -> Result<String, Error> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite://{}", path.display());
    merchant_records(&url, &path.with_extension("invoices.json"), invoices)?;
    Ok(url)
}

/// The demo users and `invoices` more of alice's in the merchant database
/// at `url` (SQLite or PostgreSQL), imported from `file` (written here).
pub fn merchant_records(url: &str, file: &Path, invoices: &[String]) -> Result<(), Error> {
    let list: Vec<serde_json::Value> = invoices
        .iter()
        .map(|id| {
            serde_json::json!({
                "id": id, "customer_id": CUSTOMER, "invoice_number": id.to_uppercase(),
                "currency": "USD", "total": "10.00"
            })
        })
        .collect();
    std::fs::write(file, serde_json::to_vec(&list)?)?;
    let imported = std::process::Command::new(crate::process::SERVER)
        .args(["invoices", "import"])
        .arg(file)
        .env("MERCHANT_DATABASE_URL", url)
        .output()
        .map_err(|e| format!("starting {}: {e} (built it?)", crate::process::SERVER))?;
    if !imported.status.success() {
        return Err(format!(
            "server invoices import: {}",
            String::from_utf8_lossy(&imported.stderr).trim()
        )
        .into());
    }
    Ok(())
}

/// The sandbox's demo seed with the same `invoices` on the vendor's side,
/// written to `path`.
pub fn sandbox_seed(path: &Path, invoices: &[String]) -> Result<(), Error> {
    let mut seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("sandbox/seed.json")?)?;
    let list = seed["invoices"]
        .as_array_mut()
        .ok_or("seed.json has no invoices")?;
    for id in invoices {
        list.push(serde_json::json!({
            "id": id, "partner_id": "partner_demo", "customer_id": CUSTOMER,
            "invoice_number": id.to_uppercase(), "currency": "USD", "sub_total": "10.00",
            "total": "10.00", "status": "open", "created_at": "2026-11-01T09:00:00Z",
            "due_date": "2026-12-31"
        }));
    }
    std::fs::write(path, serde_json::to_vec(&seed)?)?;
    Ok(())
}

/// What [`crate::process::SERVER`] needs to serve the built site on `site`,
/// with the embedded sandbox on `sandbox` — as `cargo leptos serve
/// --release` would set it up.
pub fn server_env(site: &str, sandbox: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LEPTOS_OUTPUT_NAME", "checkout".into()),
        ("LEPTOS_SITE_ROOT", "target/site".into()),
        ("LEPTOS_SITE_PKG_DIR", "pkg".into()),
        ("LEPTOS_HASH_FILES", "true".into()),
        ("LEPTOS_SITE_ADDR", site.into()),
        ("SANDBOX_ADDR", sandbox.into()),
    ]
}

/// Makes `dir` afresh, with a merchant database and an embedded sandbox
/// seed holding `invoices`, and returns the release server's environment
/// for `site` with that sandbox embedded on `sandbox` and every limit off:
/// a drill sends the whole load from one address, far over the real
/// per-key limits.
pub async fn flooded_server_env(
    dir: &Path,
    invoices: &[String],
    site: &str,
    sandbox: &str,
) -> Result<Vec<(&'static str, String)>, Error> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let merchant_db = merchant_db(&dir.join("merchant.db"), invoices).await?;
    let seed = dir.join("seed.json");
    sandbox_seed(&seed, invoices)?;
    let mut env = server_env(site, sandbox);
    env.extend([
        ("SANDBOX_DATABASE_URL", "sqlite::memory:".to_owned()),
        ("SANDBOX_SEED_FILE", seed.display().to_string()),
        ("SANDBOX_RATE_LIMIT_PER_SEC", "0".to_owned()),
        ("MERCHANT_RATE_LIMITS", "off".to_owned()),
        ("ALTERNATIVE_RATE_LIMIT_PER_SEC", "1000000".to_owned()),
        ("MERCHANT_DATABASE_URL", merchant_db),
        ("RUST_LOG", "warn".to_owned()),
    ]);
    Ok(env)
}

/// Logs alice in `n` times; the session cookies (`name=value`).
pub async fn log_in(http: &reqwest::Client, site: &str, n: usize) -> Result<Vec<String>, Error> {
    let mut cookies = Vec::with_capacity(n);
    for _ in 0..n {
        let response = http
            .post(format!("http://{site}/api/login"))
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

/// The sandbox's counters (`GET /sandbox/stats`).
pub async fn sandbox_stats(
    http: &reqwest::Client,
    sandbox: &str,
) -> Result<serde_json::Value, Error> {
    Ok(http
        .get(format!("http://{sandbox}/sandbox/stats"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}
