//! The sandbox's shared state: everything a request handler needs, opened
//! once at start and cloned (cheaply) into every request.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRef;

use crate::auth_failures::AuthFailureLimiter;
use crate::clock::{Clock, ClockShift, ShiftedClock, SkewedClock, UnixSeconds};
use crate::config::Config;
use crate::ended::EndedTokens;
use crate::error::ApiError;
use crate::keys::{self, KeyRing};
use crate::limits::RateLimiter;
use crate::links::LinkSigner;
use crate::seed::Seed;
use crate::stats::{Snapshot, Stats};
use crate::store::{Store, StoreError};
use crate::token::{self, CheckoutTokens};

/// Something to run after a reset.
type ResetHook =
    Arc<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync>;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) config: Arc<Config>,
    pub(crate) store: Arc<Store>,
    pub(crate) tokens: Arc<CheckoutTokens>,
    pub(crate) clock: Arc<dyn Clock>,
    /// How far `POST /sandbox/clock` has moved `clock` forward.
    pub(crate) clock_shift: ClockShift,
    /// Checkout tokens ended early by `POST /sandbox/tokens/{jti}/…`.
    pub(crate) ended: Arc<EndedTokens>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) links: Arc<LinkSigner>,
    pub(crate) limiter: Arc<RateLimiter>,
    pub(crate) auth_failures: Arc<AuthFailureLimiter>,
    /// Wakes the event delivery task when an event is stored or resent.
    pub(crate) events_due: Arc<tokio::sync::Notify>,
    /// Set by `POST /sandbox/webhook`: events wait instead of going out.
    pub(crate) delivery_paused: Arc<std::sync::atomic::AtomicBool>,
    /// Run after every reset (see [`Sandbox::on_reset`]).
    reset_hooks: Arc<std::sync::Mutex<Vec<ResetHook>>>,
    /// Where [`Sandbox::serve`] listens (the configured address may be port
    /// 0): the base of the links it hands out, unless a public URL is set.
    pub(crate) bound: Arc<std::sync::OnceLock<SocketAddr>>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the sandbox database: {0}")]
    Store(#[from] StoreError),
    #[error("the seed file {path}: {problem}")]
    Seed { path: String, problem: String },
}

impl Sandbox {
    /// Opens the sandbox's database (seeding it on first start) and its keys.
    pub async fn open(config: Config, clock: impl Clock) -> Result<Self, OpenError> {
        let store = Store::open(&config.database_url).await?;
        let sandbox_seed = load_seed(&config)?;
        if store.is_empty().await? {
            tracing::info!(database = %config.database_url, "seeding an empty sandbox database");
            store.reset(&sandbox_seed).await?;
        }
        config.faults.announce();
        if config.clock_offset_secs != 0 {
            tracing::warn!(
                offset_secs = config.clock_offset_secs,
                "SANDBOX_CLOCK_OFFSET_SECS: the sandbox's clock is off on purpose"
            );
        }
        let clock_shift = ClockShift::default();
        let clock = ShiftedClock {
            inner: SkewedClock {
                inner: clock,
                offset_millis: config.clock_offset_secs.saturating_mul(1000),
            },
            shift: clock_shift.clone(),
        };
        let now = clock.now();
        let stored = store.signing_keys().await?;
        let signing = match stored.iter().rev().find(|k| k.retired_at.is_none()) {
            Some(key) => key.clone(),
            None => {
                let key = keys::generate(now);
                store.save_rotation(&key, now).await?;
                key
            }
        };
        let ring = KeyRing::new(
            &stored,
            &signing,
            config.key_rotation.as_secs(),
            // A retired key verifies as long as a token it signed may live.
            config.checkout_token_ttl.as_secs() + token::LEEWAY_SECS,
        );
        Ok(Self {
            store: Arc::new(store),
            tokens: Arc::new(CheckoutTokens::new(ring)),
            clock: Arc::new(clock),
            clock_shift,
            ended: Arc::default(),
            stats: Arc::default(),
            links: Arc::new(LinkSigner::random()),
            bound: Arc::default(),
            limiter: Arc::new(RateLimiter::new(config.rate_limit_per_sec)),
            auth_failures: Arc::default(),
            events_due: Arc::default(),
            delivery_paused: Arc::default(),
            reset_hooks: Arc::default(),
            config: Arc::new(config),
        })
    }

    /// Restores the seed data: every payment, grant and idempotency key is
    /// forgotten, and so is every token ended early. The clock stays where
    /// it was moved: it only runs forward.
    pub async fn reset(&self) -> Result<(), OpenError> {
        self.store.reset(&load_seed(&self.config)?).await?;
        self.ended.clear();
        self.delivery_paused
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let hooks = self
            .reset_hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for hook in hooks {
            hook().await;
        }
        Ok(())
    }

    /// Runs `hook` after every reset, for a process that embeds the sandbox
    /// and keeps records derived from it (a demo merchant's record of what
    /// was paid must start over with the seed data too). The sandbox knows
    /// nothing of what the hook does.
    pub fn on_reset<F, Fut>(&self, hook: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.reset_hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(move || Box::pin(hook())));
    }

    pub fn stats(&self) -> Snapshot {
        self.stats.snapshot()
    }

    /// Puts a new signing key in charge if the current one has served its
    /// period (or, `force`d, has signed long enough:
    /// [`keys::FORCED_ROTATION_MIN_AGE_SECS`]),
    /// storing it first so a restart keeps it.
    pub(crate) async fn rotate_keys_if_due(
        &self,
        now: UnixSeconds,
        force: bool,
    ) -> Result<(), ApiError> {
        let keys = self.tokens.keys();
        if !force && !keys.rotation_due(now) {
            return Ok(());
        }
        let _write = self.store.write_lock().await;
        // Another request may have rotated while this one waited.
        if force {
            keys.may_force_rotation(now)
                .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        } else if !keys.rotation_due(now) {
            return Ok(());
        }
        let next = keys::generate(now);
        self.store.save_rotation(&next, now).await?;
        keys.install(&next, now);
        self.store
            .forget_keys_retired_before(keys.retirement_cutoff(now))
            .await?;
        Ok(())
    }

    /// The base of the links this sandbox hands out: `SANDBOX_PUBLIC_URL`,
    /// else its own address — never the request's `Host`, which the client
    /// chooses (a link to wherever it likes, signed by the sandbox).
    pub(crate) fn public_url(&self) -> String {
        self.config
            .public_url(self.bound.get().copied().unwrap_or(self.config.addr))
    }

    /// Takes one request from `key`'s rate-limit bucket.
    pub(crate) fn rate_limit(&self, key: &str) -> Result<(), ApiError> {
        let checked = self.limiter.check(key, self.clock.now_millis());
        if checked.is_err() {
            self.stats.rate_limited(key);
        }
        checked
    }
}

/// The counters alone, for the handler that shows them (`stats::stats`),
/// which needs nothing else of the sandbox.
impl FromRef<Sandbox> for Arc<Stats> {
    fn from_ref(sandbox: &Sandbox) -> Self {
        sandbox.stats.clone()
    }
}

/// The store alone, for the handler that lists the payments
/// (`stats::payments`).
impl FromRef<Sandbox> for Arc<Store> {
    fn from_ref(sandbox: &Sandbox) -> Self {
        sandbox.store.clone()
    }
}

fn load_seed(config: &Config) -> Result<Seed, OpenError> {
    let Some(path) = &config.seed_file else {
        return Ok(Seed::demo());
    };
    let problem = |problem: String| OpenError::Seed {
        path: path.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
    Seed::parse(&text).map_err(|e| problem(e.to_string()))
}
