//! The network section: how the site meets browsers and what stands in
//! front of it — cookies, its public origins, the proxies whose forwarded
//! address it believes, its own limits, how long a log-in lasts.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, Environment};
use crate::proxies::{ForwardedHeader, TrustedProxies};

/// The longest `MERCHANT_SESSION_MAX_AGE_SECS` allowed: a week. Longer is
/// not a session but a "remember me", which this site does not offer.
const MAX_SESSION_MAX_AGE_SECS: u64 = 7 * 24 * 3600;

/// The variables, as the environment names them (upper-cased).
#[derive(Deserialize)]
pub(super) struct Raw {
    merchant_secure_cookies: Option<bool>,
    merchant_public_origins: Option<String>,
    merchant_rate_limits: Option<bool>,
    merchant_trusted_proxies: Option<String>,
    merchant_forwarded_header: Option<String>,
    merchant_session_max_age_secs: Option<u64>,
    merchant_max_in_flight: Option<u32>,
}

#[derive(Debug)]
pub struct Network {
    /// Session cookies only over HTTPS (`MERCHANT_SECURE_COOKIES`; default on
    /// except in the sandbox environment, which runs on plain http://127.0.0.1).
    pub secure_cookies: bool,
    /// Origins the site is served from besides its listening address, e.g.
    /// `https://shop.example` behind a proxy (`MERCHANT_PUBLIC_ORIGINS`, comma-separated).
    pub public_origins: Vec<String>,
    /// The merchant's own per-session/address/email limits (`MERCHANT_RATE_LIMITS`,
    /// `on` by default; `off` only for load benchmarks from one address, and
    /// refused in production).
    pub rate_limits: bool,
    /// Peers whose forwarded client address the per-address limits believe
    /// (`MERCHANT_TRUSTED_PROXIES`, addresses and CIDR ranges; none by
    /// default), in the header they write (`MERCHANT_FORWARDED_HEADER`).
    pub trusted_proxies: TrustedProxies,
    /// How long a log-in lasts from log-in, however busy its session
    /// (`MERCHANT_SESSION_MAX_AGE_SECS`, 12 hours by default).
    pub session_max_age: Duration,
    /// The most requests worked on at once; more are answered "busy" at
    /// once (`MERCHANT_MAX_IN_FLIGHT`, 512 by default: `crate::overload`).
    pub max_in_flight: usize,
}

impl Network {
    pub(super) fn read(raw: Raw, environment: Environment) -> Result<Self, ConfigError> {
        let production = environment == Environment::Production;
        let rate_limits = match raw.merchant_rate_limits {
            Some(false) if production => {
                return Err(ConfigError::malformed(
                    "MERCHANT_RATE_LIMITS",
                    "off is refused in production",
                ))
            }
            set => set.unwrap_or(true),
        };
        let forwarded_header = match raw.merchant_forwarded_header {
            None => ForwardedHeader::XForwardedFor,
            Some(name) => name
                .parse()
                .map_err(|problem| ConfigError::malformed("MERCHANT_FORWARDED_HEADER", problem))?,
        };
        let trusted_proxies = match raw.merchant_trusted_proxies {
            None => TrustedProxies::none(),
            Some(list) => TrustedProxies::parse(&list, forwarded_header)
                .map_err(|problem| ConfigError::malformed("MERCHANT_TRUSTED_PROXIES", problem))?,
        };
        let session_max_age = match raw.merchant_session_max_age_secs {
            None => merchant::SESSION_MAX_AGE,
            Some(secs) if (1..=MAX_SESSION_MAX_AGE_SECS).contains(&secs) => {
                Duration::from_secs(secs)
            }
            Some(secs) => {
                return Err(ConfigError::malformed(
                    "MERCHANT_SESSION_MAX_AGE_SECS",
                    format!(
                        "{secs} is not a whole number of seconds from 1 to \
                         {MAX_SESSION_MAX_AGE_SECS} (a week)"
                    ),
                ))
            }
        };
        let max_in_flight = match raw.merchant_max_in_flight {
            None => crate::overload::DEFAULT_MAX_IN_FLIGHT,
            Some(n) if (1..=100_000).contains(&n) => n as usize,
            Some(n) => {
                return Err(ConfigError::malformed(
                    "MERCHANT_MAX_IN_FLIGHT",
                    format!("{n} is not a number of requests from 1 to 100000"),
                ))
            }
        };
        Ok(Self {
            max_in_flight,
            secure_cookies: raw
                .merchant_secure_cookies
                .unwrap_or(environment != Environment::Sandbox),
            public_origins: raw
                .merchant_public_origins
                .map(|list| {
                    list.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            rate_limits,
            trusted_proxies,
            session_max_age,
        })
    }
}
