//! The merchant's server binary: reads the configuration, opens the
//! database, starts the vendor sandbox beside it unless a vendor URL is
//! configured, and serves [`server::router`].
//!
//! Three subcommands manage the configured database instead, each refusing
//! bad input with a sentence and storing nothing then:
//! - `server invoices import FILE` records the merchant's invoices from a
//!   JSON file (`-`: standard input), all of them or none;
//! - `server users add --email E --customer C [--name N]` adds a user, with
//!   the password read from standard input (never from the command line,
//!   where other users of the machine and the shell history would see it);
//! - `server users remove --email E` removes a user and ends their
//!   sessions (a running server stops honouring them within 5 seconds).
//!
//! Outside the sandbox environment an empty database stays empty: no demo
//! user with a published password ever exists there.

use std::net::SocketAddr;
use std::time::Duration;

use leptos::prelude::*;
use merchant::{Records, SqlSessions, Users};
use server::config::{Config, LogFormat, Vendor};
use server::wiring::{self, FleetLink, Instance, Parts};
use server::{AllowedOrigins, BrowserPolicy, Site};
use tokio::net::TcpListener;

/// mimalloc instead of glibc's malloc: a request allocates and frees many
/// small objects across the runtime's threads, where glibc's arenas spent
/// a quarter of the server's CPU (BENCHMARKS.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The sentence, not the Debug of the error: it names what to fix.
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => serve().await,
        ["invoices", "import", file] => import_invoices(file).await,
        ["users", "add", ref options @ ..] => add_user(options).await,
        ["users", "remove", "--email", email] => remove_user(email).await,
        _ => Err(format!("unknown arguments {args:?}; {USAGE}").into()),
    }
}

const USAGE: &str = "usage: server | server invoices import FILE | \
    server users add --email EMAIL --customer CUSTOMER_ID [--name NAME] (password on standard input) | \
    server users remove --email EMAIL";

/// Log lines for a person (`LOG_FORMAT=text`) or one JSON object per line
/// (`json`), filtered by `RUST_LOG` (default `info`). In JSON each line
/// carries the spans it was written in: a request's method, path and
/// `request_id` (`server/src/request_id.rs`) among them.
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let lines = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => lines.init(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            // Every span the line is in, outermost first: the request's
            // (with its id) and whatever its handler opened inside.
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}

/// Installs the metrics recorder and serves it on `addr`, which must not
/// be the public site's.
async fn serve_metrics(
    addr: SocketAddr,
    site: SocketAddr,
    sessions: SqlSessions,
) -> Result<(), Box<dyn std::error::Error>> {
    if addr == site {
        return Err(format!(
            "MERCHANT_METRICS_ADDR {addr} is the public site's address: give the metrics their own"
        )
        .into());
    }
    let handle = server::metrics::install()?;
    tokio::spawn(server::metrics::upkeep_every(
        handle.clone(),
        Duration::from_secs(5),
    ));
    let listener = TcpListener::bind(addr).await?;
    tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
    let app = server::metrics::router(handle, sessions);
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(server::shutdown())
            .await
    });
    Ok(())
}

/// The merchant's database, with the demo data in the sandbox environment only.
async fn open_database(config: &Config) -> Result<merchant::db::Database, merchant::db::DbError> {
    if config.is_sandbox() {
        merchant::db::open_with_demo(config.storage.database_url.expose()).await
    } else {
        merchant::db::open(config.storage.database_url.expose()).await
    }
}

/// `server users add`: prints who was added.
async fn add_user(options: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let (mut email, mut customer, mut name) = (None, None, None);
    let mut rest = options.iter();
    while let Some(option) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{option} needs a value; {USAGE}"))?;
        match *option {
            "--email" => email = Some(*value),
            "--customer" => customer = Some(*value),
            "--name" => name = Some(*value),
            _ => return Err(format!("unknown option {option}; {USAGE}").into()),
        }
    }
    let (Some(email), Some(customer)) = (email, customer) else {
        return Err(format!("--email and --customer are needed; {USAGE}").into());
    };
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let config = Config::from_env()?;
    let database = open_database(&config).await?;
    let user = Users::new(database.pool().clone())
        .add(email, password, customer, name.unwrap_or(email))
        .await
        .map_err(|e| format!("no user added: {e}"))?;
    println!(
        "added user {} ({}), paying as {}",
        user.id, user.email, user.customer_id
    );
    Ok(())
}

/// `server users remove`: deletes the user, then their sessions' rows
/// (a running server also refuses any it still holds, once its copy of the
/// user is 5 seconds old: `Users::session_user`); prints what it did.
async fn remove_user(email: &str) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let database = open_database(&config).await?;
    let user = Users::new(database.pool().clone())
        .remove(email)
        .await?
        .ok_or_else(|| format!("no user removed: no user has the email {email:?}"))?;
    let ended = SqlSessions::new(database.pool().clone())
        .delete_of_user(user.id)
        .await?;
    println!(
        "removed user {} ({}) and ended their {ended} sessions",
        user.id, user.email
    );
    Ok(())
}

/// `server invoices import FILE`: prints how many were recorded.
async fn import_invoices(file: &str) -> Result<(), Box<dyn std::error::Error>> {
    let json = if file == "-" {
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut json)?;
        json
    } else {
        std::fs::read(file).map_err(|e| format!("{file}: {e}"))?
    };
    let config = Config::from_env()?;
    let database = open_database(&config).await?;
    let imported = Records::new(database.pool().clone())
        .import(&json)
        .await
        .map_err(|e| format!("{file}: nothing imported: {e}"))?;
    println!(
        "imported {imported} invoices into {}",
        config.storage.database_url
    );
    Ok(())
}

/// The demo starts over together: a sandbox reset (the browser tests make
/// one after paying) reopens the invoices it paid and drops its events, so
/// the merchant forgets the payments it recorded of them, and its place in
/// the event list.
#[cfg(feature = "embedded-sandbox")]
fn forget_payments_on_reset(
    sandbox: &sandbox::Sandbox,
    checkout: std::sync::Arc<merchant::CheckoutService>,
) {
    sandbox.on_reset(move || {
        let checkout = checkout.clone();
        async move {
            if let Err(error) = checkout.forget_payments().await {
                tracing::error!(%error, "could not forget the demo's payments");
            }
        }
    });
}

/// The vendor the server talks to, once reached.
struct ReachedVendor {
    api_url: String,
    /// What the webhook endpoint checks signatures with; `None`: no endpoint.
    webhook_secrets: Option<alternative_client::webhook::WebhookSecrets>,
    /// The sandbox running in this process, if it is the vendor.
    #[cfg(feature = "embedded-sandbox")]
    embedded: Option<sandbox::Sandbox>,
}

/// The configured vendor at its URL, or the embedded sandbox, started here
/// and delivering its events to this site.
async fn reach_vendor(
    config: &Config,
    site_addr: SocketAddr,
    origins: &AllowedOrigins,
) -> Result<ReachedVendor, Box<dyn std::error::Error>> {
    // Only the embedded sandbox needs them: it delivers to the site, and
    // the site's pages call it.
    #[cfg(not(feature = "embedded-sandbox"))]
    let _ = (site_addr, origins);
    let reached = match config.vendor.kind.clone() {
        Vendor::Remote { api_url } => ReachedVendor {
            api_url,
            webhook_secrets: config.webhooks.secrets.clone(),
            #[cfg(feature = "embedded-sandbox")]
            embedded: None,
        },
        #[cfg(feature = "embedded-sandbox")]
        Vendor::EmbeddedSandbox(mut sandbox_config) => {
            let webhook_secrets = server::embedded_sandbox_webhook(
                &mut sandbox_config,
                site_addr,
                config.webhooks.secrets.clone(),
            );
            let (api_url, sandbox) =
                server::start_embedded_sandbox(*sandbox_config, origins).await?;
            ReachedVendor {
                api_url,
                webhook_secrets,
                embedded: Some(sandbox),
            }
        }
    };
    if reached.webhook_secrets.is_none() {
        tracing::warn!(
            "MERCHANT_WEBHOOK_SECRETS is not set: no webhook endpoint; payments are \
             recorded only by reconciling after Pay"
        );
    }
    Ok(reached)
}

/// The security headers, for a site whose page calls the vendor at
/// `api_url` (HSTS outside the sandbox; under `cargo leptos watch`, the
/// live-reload socket allowed too).
fn browser_policy(
    api_url: &str,
    config: &Config,
    leptos: &LeptosOptions,
) -> Result<BrowserPolicy, Box<dyn std::error::Error>> {
    let browser = BrowserPolicy::new(api_url, !config.is_sandbox())?;
    if std::env::var_os("LEPTOS_WATCH").is_none() {
        return Ok(browser);
    }
    // cargo-leptos's live reload: the page opens a socket to this port.
    let port = leptos.reload_external_port.unwrap_or(leptos.reload_port);
    Ok(browser.with_live_reload(port))
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    // Read first: `.env` may set the log format and filter.
    let config = Config::from_env()?;
    init_logging(config.observability.log_format);
    if let Some(path) = &config.env_file {
        tracing::info!(path = %path.display(), "read settings from .env");
    }
    let leptos_options = get_configuration(None)?.leptos_options;
    let site_addr = leptos_options.site_addr;
    let origins = AllowedOrigins::for_site(site_addr, &config.network.public_origins);

    // Lives as long as `main`: an in-memory database lasts as long as it.
    let database = open_database(&config).await?;
    let db = database.pool().clone();

    let vendor = reach_vendor(&config, site_addr, &origins).await?;
    let api_url = vendor.api_url;

    let rows = SqlSessions::new(db.clone());
    // Expired sessions are deleted hourly; until then they are refused anyway.
    tokio::spawn(rows.clone().delete_expired_every(Duration::from_secs(3600)));

    // What this instance shares with the others (MERCHANT_REDIS_URL).
    let fleet = config.fleet.as_ref().map(FleetLink::connect).transpose()?;
    if let Some(fleet) = &config.fleet {
        tracing::info!(redis = %fleet.redis_url, instances = fleet.instances, "sharing the fleet's state through Redis");
    }
    let Instance { services, sessions } = wiring::instance(
        Parts {
            vendor: config.vendor.client_config(&api_url),
            pool: db,
            rate_limits: config.network.rate_limits,
            session_max_age: config.network.session_max_age,
            clock: merchant::WallClock::default(),
        },
        fleet.as_ref(),
    )?;
    #[cfg(feature = "embedded-sandbox")]
    if let Some(sandbox) = &vendor.embedded {
        forget_payments_on_reset(sandbox, services.checkout.clone());
    }
    wiring::catch_up(&services.checkout, config.webhooks.catch_up, fleet.as_ref());
    let site = Site {
        deployment: app::Deployment {
            developer_panel: config.is_sandbox(),
        },
        browser: browser_policy(&api_url, &config, &leptos_options)?,
        leptos_options,
        origins,
        secure_cookies: config.network.secure_cookies,
        trusted_proxies: config.network.trusted_proxies.clone(),
        webhook_secrets: vendor.webhook_secrets,
        max_in_flight: config.network.max_in_flight,
    };
    let app = server::router(site, services, sessions);

    let listener = TcpListener::bind(site_addr).await?;
    if let Some(addr) = config.observability.metrics_addr {
        serve_metrics(addr, listener.local_addr()?, rows).await?;
    }
    tracing::info!(
        "merchant app listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        // The client's address feeds the per-address rate limits.
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(server::shutdown())
    .await?;
    Ok(())
}
