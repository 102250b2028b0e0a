//! One instance wired from its parts, as `main` runs it and as the tests
//! build it (fleet included): the vendor client, the checkout, the users
//! and limits, and the sessions — each shared with the other instances
//! through the fleet's Redis when there is one — and the catch-up on the
//! vendor's events.

use std::sync::Arc;
use std::time::Duration;

use alternative_client::{FleetState, VendorClient, VendorConfig};
use fleet_redis::FleetRedis;
use merchant::gate::MintGate;
use merchant::limiter::Limits;
use merchant::{CachedSessions, CheckoutService, EndedSessions, Records, SqlSessions, Users};
use sqlx::AnyPool;

use crate::config;
use crate::Services;

/// What one instance shares with the others: their Redis (one connection,
/// one view of an outage for every part) and how many they are at most.
#[derive(Clone, Debug)]
pub struct FleetLink {
    pub redis: FleetRedis,
    pub instances: u32,
}

impl FleetLink {
    /// The fleet's Redis, connected lazily: the instance starts, and
    /// serves, while Redis is down.
    pub fn connect(fleet: &config::Fleet) -> Result<Self, fleet_redis::redis::RedisError> {
        Ok(Self {
            redis: FleetRedis::new(fleet.redis_url.expose(), &fleet.key_prefix)?,
            instances: fleet.instances,
        })
    }
}

/// What an instance is built from.
pub struct Parts {
    /// The vendor client's settings (`config::VendorSettings::client_config`).
    pub vendor: VendorConfig,
    /// The merchant's database.
    pub pool: AnyPool,
    /// The merchant's own limits (`MERCHANT_RATE_LIMITS`).
    pub rate_limits: bool,
    /// How long a log-in lasts (`MERCHANT_SESSION_MAX_AGE_SECS`).
    pub session_max_age: Duration,
    /// The clock log-ins are judged by (tests move it).
    pub clock: merchant::WallClock,
}

/// An instance's services, and its sessions over the database's rows.
pub struct Instance {
    pub services: Services,
    pub sessions: CachedSessions<SqlSessions>,
}

/// Builds an instance from `parts`, sharing what a fleet shares through
/// `fleet`'s Redis.
pub fn instance(
    parts: Parts,
    fleet: Option<&FleetLink>,
) -> Result<Instance, Box<dyn std::error::Error>> {
    let mut vendor = VendorClient::new(parts.vendor)?;
    if let Some(FleetLink { redis, instances }) = fleet {
        // The quota and the OAuth token, shared with the other instances.
        vendor = vendor.in_fleet(FleetState::new(redis.clone(), *instances)?);
    }
    let mut checkout = CheckoutService::new(vendor, Records::new(parts.pool.clone()));
    let mut limits = if parts.rate_limits {
        Limits::default()
    } else {
        tracing::warn!("MERCHANT_RATE_LIMITS=off: no per-session, per-address or per-email limits");
        Limits::off()
    };
    let rows = SqlSessions::new(parts.pool.clone());
    let sessions = match fleet {
        Some(FleetLink { redis, .. }) => {
            // One token per invoice; the merchant's limits; a log-out
            // everywhere at once.
            checkout = checkout.in_fleet(redis);
            limits = limits.in_fleet(redis);
            CachedSessions::in_fleet(rows, EndedSessions::new(redis.clone()))
        }
        None => CachedSessions::new(rows),
    };
    let users = Users::new(parts.pool)
        .with_session_max_age(parts.session_max_age)
        .with_clock(parts.clock);
    let limits = Arc::new(limits);
    let gate = match fleet {
        Some(FleetLink { redis, .. }) => MintGate::in_fleet(redis.clone(), limits.clone()),
        None => MintGate::alone(limits.clone()),
    };
    Ok(Instance {
        services: Services {
            checkout: Arc::new(checkout),
            users: Arc::new(users),
            limits,
            gate: Arc::new(gate),
        },
        sessions,
    })
}

/// Reads the vendor's events every `period` (and now) for what the webhook
/// endpoint missed; `None`: never (said in the log).
pub fn catch_up(
    checkout: &Arc<CheckoutService>,
    period: Option<Duration>,
    fleet: Option<&FleetLink>,
) {
    match period {
        Some(period) => {
            let redis = fleet.map(|fleet| fleet.redis.clone());
            tokio::spawn(checkout.clone().catch_up_every(period, redis));
        }
        None => tracing::warn!(
            "MERCHANT_EVENTS_CATCH_UP_SECS=0: no catch-up on the vendor's events; a payment \
             whose event is lost is recorded only when its payer reconciles or opens it again"
        ),
    }
}
