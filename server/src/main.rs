//! The merchant's server: serves the Leptos app and its server functions,
//! and, unless a vendor URL is configured, runs the vendor sandbox beside it.

mod assets;
mod config;
mod origin;

use std::net::SocketAddr;
use std::sync::Arc;

use app::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use merchant::limiter::Limits;
use merchant::{CachedSessions, CheckoutService, Records, Users, VendorClient};
use sandbox::{Sandbox, SystemClock};
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use crate::config::{Config, Vendor};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let leptos_options = get_configuration(None)?.leptos_options;
    let site_addr = leptos_options.site_addr;
    let mut config = Config::from_env()?;

    let api_url = match &mut config.vendor {
        Vendor::Remote { api_url } => api_url.clone(),
        Vendor::EmbeddedSandbox(sandbox_config) => {
            // The page calls the sandbox from the browser: let this site's origin in.
            let origin = format!("http://{site_addr}");
            if !sandbox_config.allowed_origins.contains(&origin) {
                sandbox_config.allowed_origins.push(origin);
            }
            let listener = TcpListener::bind(sandbox_config.addr).await?;
            let url = format!("http://{}", listener.local_addr()?);
            tracing::info!(%url, "no vendor URL: running the vendor sandbox in-process");
            let sandbox = Sandbox::open(sandbox_config.clone(), SystemClock).await?;
            tokio::spawn(sandbox.serve(listener, shutdown()));
            url
        }
    };

    // Lives as long as `main`: an in-memory database lasts as long as it.
    let database = merchant::db::open(&config.merchant_database_url).await?;
    let db = database.pool().clone();
    let sessions = SqliteStore::new(db.clone());
    sessions.migrate().await?;
    // Expired sessions are deleted hourly; until then they are refused anyway.
    tokio::spawn(
        sessions
            .clone()
            .continuously_delete_expired(std::time::Duration::from_secs(3600)),
    );
    // Sessions are read from memory and written through (merchant::sessions);
    // saved on every request, so the 8 hours count from the last one.
    let session_layer = SessionManagerLayer::new(CachedSessions::new(sessions))
        .with_always_save(true)
        .with_name("merchant_session")
        .with_http_only(true)
        // Lax: sent on top-level navigation to the site, never on another
        // site's POST — the CSRF baseline, with the Origin check below.
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));

    let allowed_origins = Arc::new(origin::AllowedOrigins::for_site(
        site_addr,
        &config.public_origins,
    ));
    let limits = Arc::new(if config.rate_limits {
        Limits::default()
    } else {
        tracing::warn!("MERCHANT_RATE_LIMITS=off: no per-session, per-address or per-email limits");
        Limits::off()
    });
    let vendor = VendorClient::new(config.vendor_config(&api_url))?;
    let checkout = Arc::new(CheckoutService::new(vendor, Records::new(db.clone())));
    let users = Arc::new(Users::new(db));

    let routes = generate_route_list(App);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || {
                provide_context(checkout.clone());
                provide_context(users.clone());
                provide_context(limits.clone());
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(axum::middleware::from_fn_with_state(
            assets::HashedNames(leptos_options.hash_files),
            assets::cache_control,
        ))
        .layer(axum::middleware::from_fn_with_state(
            allowed_origins,
            origin::refuse_cross_site_posts,
        ))
        .layer(session_layer)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(leptos_options);

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
    .with_graceful_shutdown(shutdown())
    .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so both the app and the embedded sandbox
/// finish their requests and exit.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
