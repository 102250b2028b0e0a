//! The whole site in a test: [`server::router`] over an in-memory merchant
//! database and a real vendor sandbox on a loopback port, driven with
//! `oneshot`. The sandbox's invoice read can be held, so a test can run
//! other requests while one is in flight — on purpose, not by timing.

#![allow(dead_code)] // each test binary uses its own part of this

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use alternative_client::{ClientSecret, VendorConfig};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use merchant::Users;
use sandbox::{Sandbox, SystemClock};
use server::wiring::{self, FleetLink, Instance, Parts};
use server::{AllowedOrigins, BrowserPolicy, Site, TrustedProxies};
use tokio::sync::oneshot;
use tower::ServiceExt;

pub const ALICE: (&str, &str) = ("alice@example.com", "alice-demo-password");
pub const BOB: (&str, &str) = ("bob@example.com", "bob-demo-password");

pub struct TestSite {
    pub app: Router,
    pub db: merchant::db::Database,
    pub sandbox: Sandbox,
    pub gate: Gate,
    /// While set, the vendor answers every call with 503.
    pub vendor_down: Arc<AtomicBool>,
    /// The site's users (to remove one, as `server users remove` does).
    pub users: Arc<Users>,
    /// The wall clock log-ins' age is judged by: tests move it.
    pub clock: merchant::WallClock,
    /// Where the vendor sandbox answers.
    pub vendor_url: String,
}

/// Holds the next vendor invoice read until released.
#[derive(Clone, Default)]
pub struct Gate(Arc<Mutex<Option<Hold>>>);

/// The gate's side of a held request: say it arrived, wait for release.
type Hold = (oneshot::Sender<()>, oneshot::Receiver<()>);

pub struct Held {
    /// Resolves once the held request reached the vendor.
    pub reached: oneshot::Receiver<()>,
    pub release: oneshot::Sender<()>,
}

impl Gate {
    pub fn hold_next(&self) -> Held {
        let (reached_tx, reached) = oneshot::channel();
        let (release, release_rx) = oneshot::channel();
        *self.0.lock().unwrap() = Some((reached_tx, release_rx));
        Held { reached, release }
    }

    async fn pass(&self) {
        let hold = self.0.lock().unwrap().take();
        if let Some((reached, release)) = hold {
            let _ = reached.send(());
            let _ = release.await;
        }
    }
}

/// Which of the vendor's environments the site is configured for, as far
/// as the site's own behaviour differs (the developer panel, HSTS).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Sandbox,
    Production,
}

/// How the test site is configured, where tests differ.
#[derive(Clone)]
pub struct Options {
    pub environment: Environment,
    pub trusted_proxies: TrustedProxies,
    /// `MERCHANT_PUBLIC_ORIGINS`.
    pub public_origins: Vec<String>,
    /// A fleet's Redis, shared with the instances `beside` makes.
    pub fleet: Option<FleetLink>,
    /// `MERCHANT_MAX_IN_FLIGHT`.
    pub max_in_flight: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            environment: Environment::Sandbox,
            trusted_proxies: TrustedProxies::none(),
            public_origins: Vec::new(),
            fleet: None,
            max_in_flight: server::overload::DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// The site as the sandbox environment serves it.
pub async fn start() -> TestSite {
    start_with(Options::default()).await
}

pub async fn start_in(environment: Environment) -> TestSite {
    start_with(Options {
        environment,
        ..Options::default()
    })
    .await
}

/// What the test site's webhook endpoint checks signatures with.
pub const WEBHOOK_SECRET: &str = "whsec_test_0123456789abcdef";

pub async fn start_with(options: Options) -> TestSite {
    let sandbox = Sandbox::open(sandbox::Config::unlimited_in_memory(), SystemClock)
        .await
        .unwrap();
    let gate = Gate::default();
    let vendor_down = Arc::new(AtomicBool::new(false));
    let vendor_api = sandbox.router().layer(axum::middleware::from_fn({
        let (gate, vendor_down) = (gate.clone(), vendor_down.clone());
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (gate, vendor_down) = (gate.clone(), vendor_down.clone());
            async move {
                if vendor_down.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                if request.uri().path() == "/checkout/v1/invoice" {
                    gate.pass().await;
                }
                next.run(request).await
            }
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, vendor_api).await });

    let db = merchant::db::open_with_demo(&merchant::db::scratch_url().await)
        .await
        .unwrap();
    let clock = merchant::WallClock::default();
    let (app, users) = instance(&options, &url, db.pool().clone(), clock.clone());
    TestSite {
        app,
        db,
        sandbox,
        gate,
        vendor_down,
        users,
        clock,
        vendor_url: url,
    }
}

/// Another instance of `site`'s fleet (`options.fleet`): the same
/// database and vendor, wired as `main` wires it.
pub fn beside(site: &TestSite, options: &Options) -> Router {
    instance(
        options,
        &site.vendor_url,
        site.db.pool().clone(),
        site.clock.clone(),
    )
    .0
}

/// One instance's site over `pool`, talking to the vendor at `url`, wired
/// by `server::wiring` (its fleet's Redis shared if `options` has one).
fn instance(
    options: &Options,
    url: &str,
    pool: sqlx::AnyPool,
    clock: merchant::WallClock,
) -> (Router, Arc<Users>) {
    let sandboxed = options.environment == Environment::Sandbox;
    let vendor = VendorConfig {
        token_issuer: Some("alternative-sandbox".into()),
        token_typ: Some("checkout+jwt".into()),
        // Every readiness probe asks the vendor afresh.
        probe_interval: std::time::Duration::ZERO,
        ..VendorConfig::new(
            url,
            "demo_client_id",
            ClientSecret::new("demo_client_secret"),
        )
    };
    let parts = Parts {
        vendor,
        pool,
        rate_limits: true,
        session_max_age: merchant::SESSION_MAX_AGE,
        clock,
    };
    let Instance { services, sessions } = wiring::instance(parts, options.fleet.as_ref()).unwrap();
    let users = services.users.clone();
    let leptos_options = LeptosOptions::builder()
        .output_name("checkout")
        .site_root(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/site"))
        .build();
    let site = Site {
        origins: AllowedOrigins::for_site(leptos_options.site_addr, &options.public_origins),
        leptos_options,
        secure_cookies: false,
        deployment: app::Deployment {
            developer_panel: sandboxed,
        },
        browser: BrowserPolicy::new(url, !sandboxed).unwrap(),
        trusted_proxies: options.trusted_proxies.clone(),
        webhook_secrets: Some(
            alternative_client::webhook::WebhookSecrets::parse(WEBHOOK_SECRET).unwrap(),
        ),
        max_in_flight: options.max_in_flight,
    };
    (server::router(site, services, sessions), users)
}

/// The one asset the tests' site root (`tests/site`) holds, under `/pkg/`,
/// as a release build's are.
pub const ASSET: &str = "checkout.test.wasm";

/// A form POST, as the page's server-function calls send it.
pub fn post(path: &str, form: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap();
    if let Some(cookie) = cookie {
        request.headers_mut().insert(
            header::COOKIE,
            format!("merchant_session={cookie}").parse().unwrap(),
        );
    }
    request
}

/// A page request as the browser sends it, with `session`'s cookie.
pub fn page(path: &str, session: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, format!("merchant_session={session}"))
        .body(Body::empty())
        .unwrap()
}

/// `request` as if it came from `ip`.
pub fn from(ip: &str, mut request: Request<Body>) -> Request<Body> {
    let ip: IpAddr = ip.parse().unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    request
}

/// The most a request of these tests may take: the slowest, a log-in
/// hashing its password in a debug build on a busy machine, takes about a
/// second. A request that hangs fails its test here, named, instead of
/// holding the whole suite until CI gives up.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// `request` sent to `app`, and its response, which must come within
/// [`ANSWER_WITHIN`] (headers and whole body: a page renders as it streams).
pub async fn call(app: &Router, request: Request<Body>) -> Response<Body> {
    let asked = format!("{} {}", request.method(), request.uri());
    let answer = async {
        let (parts, body) = app.clone().oneshot(request).await.unwrap().into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Response::from_parts(parts, Body::from(body))
    };
    tokio::time::timeout(ANSWER_WITHIN, answer)
        .await
        .unwrap_or_else(|_| panic!("{asked}: no whole answer within {ANSWER_WITHIN:?}"))
}

pub async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The session cookie's value a response sets: `Some("")` for a removal.
pub fn set_session_cookie(response: &Response<Body>) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("merchant_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

/// Logs in and returns the session cookie.
pub async fn log_in(app: &Router, (email, password): (&str, &str), cookie: Option<&str>) -> String {
    let form = format!("email={email}&password={password}");
    let response = call(app, post("/api/login", &form, cookie)).await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "log-in: {}",
        response.status()
    );
    set_session_cookie(&response).expect("a session cookie")
}

/// Who the session is, as `/api/whoami` answers: `null` when no one.
pub async fn whoami(app: &Router, cookie: &str) -> String {
    let response = call(app, post("/api/whoami", "", Some(cookie))).await;
    assert_eq!(response.status(), StatusCode::OK);
    text(response).await
}

pub async fn session_rows(db: &merchant::db::Database) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(db.pool())
        .await
        .unwrap()
}
