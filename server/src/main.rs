//! The merchant's server binary: reads the configuration, opens the
//! database, starts the vendor sandbox beside it unless a vendor URL is
//! configured, and serves [`server::router`].
//!
//! `server invoices import FILE` instead records the merchant's invoices
//! from a JSON file (`-` for standard input) in the configured database:
//! all of them, or none and a sentence naming what is wrong.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use alternative_client::VendorClient;
use leptos::prelude::*;
use merchant::limiter::Limits;
use merchant::{CachedSessions, CheckoutService, Records, SqliteSessions, Users};
use server::config::{Config, Vendor};
use server::{AllowedOrigins, Services, Site};
use tokio::net::TcpListener;

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
        _ => Err(format!(
            "unknown arguments {args:?}; usage: server | server invoices import FILE"
        )
        .into()),
    }
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
    let database = merchant::db::open(&config.merchant_database_url).await?;
    let imported = Records::new(database.pool().clone())
        .import(&json)
        .await
        .map_err(|e| format!("{file}: nothing imported: {e}"))?;
    println!(
        "imported {imported} invoices into {}",
        config.merchant_database_url
    );
    Ok(())
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let leptos_options = get_configuration(None)?.leptos_options;
    let site_addr = leptos_options.site_addr;
    let config = Config::from_env()?;
    let origins = AllowedOrigins::for_site(site_addr, &config.public_origins);

    let api_url = match config.vendor.clone() {
        Vendor::Remote { api_url } => api_url,
        #[cfg(feature = "embedded-sandbox")]
        Vendor::EmbeddedSandbox(sandbox_config) => {
            server::start_embedded_sandbox(sandbox_config, &origins).await?
        }
    };

    // Lives as long as `main`: an in-memory database lasts as long as it.
    let database = merchant::db::open(&config.merchant_database_url).await?;
    let db = database.pool().clone();
    let sessions = SqliteSessions::new(db.clone());
    // Expired sessions are deleted hourly; until then they are refused anyway.
    tokio::spawn(
        sessions
            .clone()
            .delete_expired_every(Duration::from_secs(3600)),
    );

    let limits = if config.rate_limits {
        Limits::default()
    } else {
        tracing::warn!("MERCHANT_RATE_LIMITS=off: no per-session, per-address or per-email limits");
        Limits::off()
    };
    let secure_cookies = config.secure_cookies;
    let vendor = VendorClient::new(config.vendor_config(&api_url))?;
    let services = Services {
        checkout: Arc::new(CheckoutService::new(vendor, Records::new(db.clone()))),
        users: Arc::new(Users::new(db)),
        limits: Arc::new(limits),
    };
    let site = Site {
        leptos_options,
        origins,
        secure_cookies,
    };
    let app = server::router(site, services, CachedSessions::new(sessions));

    let listener = TcpListener::bind(site_addr).await?;
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
