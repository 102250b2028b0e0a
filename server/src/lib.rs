//! The merchant's server as a library: [`router`] builds the whole site
//! (pages, server functions, sessions, the cross-site check, the vendor's
//! webhook endpoint) from services
//! the caller made, so tests drive it with `tower::ServiceExt::oneshot` and
//! `main` only reads configuration and serves.

mod assets;
pub mod config;
mod health;
mod icon;
pub mod metrics;
pub mod origin;
pub mod overload;
pub mod proxies;
mod request_id;
pub mod session_cookie;
pub mod webhooks;
pub mod wiring;

use std::sync::{Arc, OnceLock};

use app::{shell, App};
use axum::error_handling::HandleErrorLayer;
use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use merchant::gate::MintGate;
use merchant::limiter::Limits;
use merchant::sessions::SessionRows;
use merchant::{CachedSessions, CheckoutService, Users};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use checkout_headers::BrowserPolicy;
pub use origin::AllowedOrigins;
pub use proxies::TrustedProxies;

/// A session ends after this long without its user being asked for.
pub const SESSION_INACTIVITY: time::Duration = time::Duration::hours(8);

/// What the server functions reach through Leptos's context.
#[derive(Clone)]
pub struct Services {
    pub checkout: Arc<CheckoutService>,
    pub users: Arc<Users>,
    pub limits: Arc<Limits>,
    /// A mint's questions to the fleet's Redis, in one round trip.
    pub gate: Arc<MintGate>,
}

/// How the site is served.
pub struct Site {
    pub leptos_options: LeptosOptions,
    /// Origins whose POSTs are the site's own (the cross-site check).
    pub origins: AllowedOrigins,
    /// Session cookies only over HTTPS.
    pub secure_cookies: bool,
    /// What the pages may show where they run (the developer panel only in
    /// the sandbox environment).
    pub deployment: app::Deployment,
    /// The security headers every answer carries (CSP with a nonce, HSTS…).
    pub browser: BrowserPolicy,
    /// Whose forwarded client address the per-address limits believe.
    pub trusted_proxies: TrustedProxies,
    /// The secrets the vendor signs its events with; `None`: no webhook
    /// endpoint (the merchant learns of payments by reconciling alone).
    pub webhook_secrets: Option<alternative_client::webhook::WebhookSecrets>,
    /// The most requests of the site worked on at once; more are answered
    /// "busy" at once (`overload`).
    pub max_in_flight: usize,
}

/// The whole site. Sessions are kept in `sessions` (memory, written
/// through to their rows: `merchant::sessions`).
pub fn router<R: SessionRows>(
    site: Site,
    services: Services,
    sessions: CachedSessions<R>,
) -> Router {
    let trusted_proxies = Arc::new(site.trusted_proxies);
    let probes = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .with_state(services.checkout.clone());
    // Outside the session layer and the cross-site check, merged after them.
    let webhooks = match site.webhook_secrets {
        Some(secrets) => webhooks::routes(secrets, services.checkout.clone()),
        None => Router::new(),
    };
    let options = Options(Arc::new(site.leptos_options));
    pages(&options, site.deployment, services)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(site.origins),
            origin::refuse_cross_site_posts,
        ))
        .layer(session_layer(sessions, site.secure_cookies))
        // Outside the session layer, which sets the cookie on the way out.
        .layer(axum::middleware::from_fn(session_cookie::guard))
        // Outermost of the site's own: a request shed touches nothing. One
        // limit for every route (axum layers each route on its own, so a
        // per-layer limit would be one per route).
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overload::busy))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(site.max_in_flight)),
        )
        .merge(probes)
        .merge(icon::routes())
        .merge(webhooks)
        .layer(axum::middleware::from_fn_with_state(
            trusted_proxies.clone(),
            proxies::resolve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(site.browser),
            checkout_headers::set,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(request_id::span)
                .on_failure(overload::log_failure),
        )
        // Outside the trace layer: its span names the id.
        .layer(axum::middleware::from_fn_with_state(
            trusted_proxies,
            request_id::assign,
        ))
        .with_state(options)
}

/// The pages, the server functions and the assets, with the services in
/// the server functions' context.
fn pages(state: &Options, deployment: app::Deployment, services: Services) -> Router<Options> {
    let options = &state.0;
    // What every render reaches, the page not found's too: its header asks
    // who is logged in like any page's (without the services it answered a
    // logged-in visitor 500).
    let context = move || {
        checkout_headers::provide_nonce();
        provide_context(services.checkout.clone());
        provide_context(services.users.clone());
        provide_context(services.limits.clone());
        provide_context(services.gate.clone());
        provide_context(deployment);
    };
    Router::new()
        .leptos_routes_with_context(state, routes(), context.clone(), {
            let options = LeptosOptions::clone(options);
            move || shell(options.clone())
        })
        // The wasm, its script and the styles straight from disk, apart
        // from the fallback: leptos_axum's file handler gives a file the
        // status of whatever render it finds in leptos's context, and a
        // render on the same worker thread could be found there — WebKit
        // got the wasm answered 500 beside its /favicon.ico render, about
        // one page load in twenty, and the checkout never hydrated.
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(options),
            leptos_axum::site_pkg_dir_service(options),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<Options, _>(context, shell))
        .layer(axum::middleware::from_fn_with_state(
            assets::HashedNames(options.hash_files),
            assets::cache_control,
        ))
}

/// The site's options as the router's state. axum clones the state for
/// every request a handler answers, the mint's too: behind an `Arc` that is
/// one count, where `LeptosOptions` itself is five (its `Arc<str>` fields)
/// and a `String` where a server-function prefix is set.
/// Leptos's handlers take their own copy where they use it (`FromRef`).
#[derive(Clone)]
struct Options(Arc<LeptosOptions>);

impl FromRef<Options> for LeptosOptions {
    fn from_ref(options: &Options) -> Self {
        LeptosOptions::clone(&options.0)
    }
}

/// The app's routes, listed once per process. Listing them runs the app
/// with resources held back by a flag leptos_server keeps for the whole
/// process (`SuppressResourceLoad`): a page another thread renders
/// meanwhile has a resource that waits forever, and its response with it
/// (leptos-rs/leptos#4773; it hung one of our tests in a hundred, a test
/// building its router while another rendered). Listed once, before any
/// router of this process exists, no render can overlap the listing: a
/// second router (a test's, a fleet's in one process) waits here for it.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Sessions kept in `sessions`, saved only when changed: a request whose
/// session holds nothing stores nothing and sets no cookie. The inactivity
/// expiry slides because the server functions re-set it whenever they read
/// the session's user. The cookie goes out only for a session the request
/// itself kept live or ended (`session_cookie`).
fn session_layer<R: SessionRows>(
    sessions: CachedSessions<R>,
    secure_cookies: bool,
) -> SessionManagerLayer<CachedSessions<R>> {
    SessionManagerLayer::new(sessions)
        .with_name(session_cookie::NAME)
        .with_http_only(true)
        // Lax: sent on top-level navigation to the site, never on another
        // site's POST — the CSRF baseline, with the Origin check.
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_INACTIVITY))
}

/// Starts the vendor sandbox in this process on `config.addr`, letting
/// exactly the site's `origins` call it from the browser (CORS), whatever
/// the sandbox's own defaults; returns its URL and itself. It stops on
/// [`shutdown`].
#[cfg(feature = "embedded-sandbox")]
pub async fn start_embedded_sandbox(
    mut config: sandbox::Config,
    origins: &AllowedOrigins,
) -> Result<(String, sandbox::Sandbox), Box<dyn std::error::Error>> {
    config.allowed_origins = origins.list().to_vec();
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    tracing::info!(%url, "no vendor URL: running the vendor sandbox in-process");
    let sandbox = sandbox::Sandbox::open(config, sandbox::SystemClock).await?;
    tokio::spawn(sandbox.clone().serve(listener, shutdown()));
    Ok((url, sandbox))
}

/// Where the embedded sandbox sends its events, and the secrets the site
/// checks them with. Unless `SANDBOX_WEBHOOK_URL` says otherwise, the
/// sandbox delivers to this site's own endpoint, signed with a secret made
/// now (a new one each start: events still waiting are signed when sent).
/// With `SANDBOX_WEBHOOK_URL` set, `MERCHANT_WEBHOOK_SECRETS` (`configured`)
/// must match `SANDBOX_WEBHOOK_SECRETS`, as with a remote vendor.
#[cfg(feature = "embedded-sandbox")]
pub fn embedded_sandbox_webhook(
    config: &mut sandbox::Config,
    site_addr: std::net::SocketAddr,
    configured: Option<alternative_client::webhook::WebhookSecrets>,
) -> Option<alternative_client::webhook::WebhookSecrets> {
    if config.webhook.is_some() {
        return configured;
    }
    let secret = format!("whsec_{:032x}", rand::random::<u128>());
    let host = if site_addr.ip().is_unspecified() {
        std::net::SocketAddr::from(([127, 0, 0, 1], site_addr.port()))
    } else {
        site_addr
    };
    config.webhook = Some(sandbox::Webhook {
        url: format!("http://{host}{}", webhooks::PATH),
        secrets: vec![sandbox::WebhookSecret::parse(&secret).expect("a made secret is well formed")],
    });
    if configured.is_some() {
        tracing::info!("MERCHANT_WEBHOOK_SECRETS is not used by the embedded sandbox: it signs with a secret made at start");
    }
    alternative_client::webhook::WebhookSecrets::parse(&secret).ok()
}

/// Resolves on Ctrl-C or SIGTERM, so both the app and the embedded sandbox
/// finish their requests and exit.
pub async fn shutdown() {
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
