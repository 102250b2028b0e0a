//! The merchant's server: serves the Leptos app and its server functions,
//! and, unless a vendor URL is configured, runs the vendor sandbox beside it.

mod config;

use std::sync::Arc;

use app::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use merchant::{CheckoutService, Records, VendorClient};
use sandbox::{Sandbox, SystemClock};
use tokio::net::TcpListener;

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
            tracing::info!(%url, "no ALTERNATIVE_API_URL: running the vendor sandbox in-process");
            let sandbox = Sandbox::open(sandbox_config.clone(), SystemClock).await?;
            tokio::spawn(sandbox.serve(listener, shutdown()));
            url
        }
    };
    let vendor = VendorClient::new(config.vendor_config(&api_url))?;
    let checkout = Arc::new(CheckoutService::new(vendor, Records::demo()));

    let routes = generate_route_list(App);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(checkout.clone()),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(leptos_options);

    let listener = TcpListener::bind(site_addr).await?;
    tracing::info!(
        "merchant app listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app)
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
