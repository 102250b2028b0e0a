//! The sandbox's settings, read once from `SANDBOX_*` environment variables.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the sandbox listens (`SANDBOX_ADDR`).
    pub addr: SocketAddr,
    /// Lifetime of a checkout token (`SANDBOX_CHECKOUT_TOKEN_TTL_SECS`).
    pub checkout_token_ttl: Duration,
    /// Lifetime of an OAuth access token (`SANDBOX_OAUTH_TOKEN_TTL_SECS`).
    pub oauth_token_ttl: Duration,
    /// How long one key signs checkout tokens before the next takes over
    /// (`SANDBOX_KEY_ROTATION_SECS`).
    pub key_rotation: Duration,
    /// The SQLite database (`SANDBOX_DATABASE_URL`); `sqlite::memory:` for
    /// a sandbox that forgets everything when it stops.
    pub database_url: String,
    /// A seed file to start from instead of the bundled demo data (`SANDBOX_SEED_FILE`).
    pub seed_file: Option<std::path::PathBuf>,
    /// The sandbox's own URL as browsers reach it, for links it hands out
    /// (`SANDBOX_PUBLIC_URL`; default `http://` + the listening address).
    pub public_url: Option<String>,
    /// Requests per second per key (`SANDBOX_RATE_LIMIT_PER_SEC`; 0 is off).
    pub rate_limit_per_sec: u32,
    pub faults: crate::faults::Faults,
    /// Seconds the sandbox's clock runs ahead of the machine's (negative:
    /// behind), `SANDBOX_CLOCK_OFFSET_SECS`: a vendor whose clock is off, to
    /// show the merchant does not depend on agreeing with it.
    pub clock_offset_secs: i64,
    /// Browser origins allowed to call the checkout API (`SANDBOX_ALLOWED_ORIGINS`,
    /// comma-separated): the merchant pages that host the SDK. Exactly these:
    /// an embedding server that knows its own origins sets the whole list.
    pub allowed_origins: Vec<String>,
    /// Whether `POST /sandbox/reset` and `POST /sandbox/rotate-keys` exist
    /// (`SANDBOX_CONTROLS`, `on` or `off`). On by default: the sandbox is a
    /// development and test tool, and its browser tests reset it. An embedding
    /// server that serves anyone but its developers turns them off.
    pub controls: bool,
    /// Where events are delivered, signed (`SANDBOX_WEBHOOK_URL` and
    /// `SANDBOX_WEBHOOK_SECRETS`); none: events are stored and listed only.
    pub webhook: Option<crate::webhook_endpoint::Webhook>,
    /// How long an event is retried before it is marked failed
    /// (`SANDBOX_WEBHOOK_RETRY_FOR_SECS`).
    pub webhook_retry_for: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3030)),
            // 15 minutes: long enough for a customer to read an invoice and
            // pay, short enough that a leaked token is soon worthless.
            checkout_token_ttl: Duration::from_secs(900),
            // The real API's documented lifetime.
            oauth_token_ttl: Duration::from_secs(3600),
            // A day: often enough to exercise rotation in any long-running
            // sandbox, rarely enough that verifiers' JWKS caches stay warm.
            key_rotation: Duration::from_secs(86_400),
            database_url: "sqlite://data/sandbox.db".to_owned(),
            // The real API's documented limit.
            rate_limit_per_sec: 5,
            faults: crate::faults::Faults::default(),
            clock_offset_secs: 0,
            seed_file: None,
            public_url: None,
            allowed_origins: vec![
                "http://127.0.0.1:3000".to_owned(),
                "http://localhost:3000".to_owned(),
            ],
            controls: true,
            webhook: None,
            // Three days, as the big vendors retry: an endpoint down over a
            // weekend still gets its events.
            webhook_retry_for: Duration::from_secs(3 * 86_400),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

impl Config {
    /// The defaults, with a private in-memory database.
    pub fn in_memory() -> Self {
        Self {
            database_url: "sqlite::memory:".to_owned(),
            ..Self::default()
        }
    }

    /// In memory, and without a rate limit: for tests that send bursts.
    pub fn unlimited_in_memory() -> Self {
        Self {
            rate_limit_per_sec: 0,
            ..Self::in_memory()
        }
    }

    /// The base of links this sandbox hands out.
    pub fn public_url(&self, bound: std::net::SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }

    /// Reads the environment over the defaults; names the variable that is malformed.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(addr) = get("SANDBOX_ADDR") {
            config.addr = parse("SANDBOX_ADDR", &addr)?;
        }
        if let Some(secs) = get("SANDBOX_CHECKOUT_TOKEN_TTL_SECS") {
            config.checkout_token_ttl = ttl("SANDBOX_CHECKOUT_TOKEN_TTL_SECS", &secs)?;
        }
        if let Some(secs) = get("SANDBOX_OAUTH_TOKEN_TTL_SECS") {
            config.oauth_token_ttl = ttl("SANDBOX_OAUTH_TOKEN_TTL_SECS", &secs)?;
        }
        if let Some(secs) = get("SANDBOX_KEY_ROTATION_SECS") {
            config.key_rotation = ttl("SANDBOX_KEY_ROTATION_SECS", &secs)?;
        }
        if let Some(url) = get("SANDBOX_DATABASE_URL") {
            config.database_url = url;
        }
        config.seed_file = get("SANDBOX_SEED_FILE").map(Into::into);
        config.public_url = get("SANDBOX_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
        if let Some(rate) = get("SANDBOX_RATE_LIMIT_PER_SEC") {
            config.rate_limit_per_sec = parse("SANDBOX_RATE_LIMIT_PER_SEC", &rate)?;
        }
        if let Some(ms) = get("SANDBOX_FAULT_LATENCY_MS") {
            config.faults.latency = Duration::from_millis(parse("SANDBOX_FAULT_LATENCY_MS", &ms)?);
        }
        if let Some(rate) = get("SANDBOX_FAULT_ERROR_RATE") {
            config.faults.error_rate = share("SANDBOX_FAULT_ERROR_RATE", &rate)?;
        }
        if let Some(rate) = get("SANDBOX_FAULT_OAUTH_REVOKE_RATE") {
            config.faults.oauth_revoke_rate = share("SANDBOX_FAULT_OAUTH_REVOKE_RATE", &rate)?;
        }
        if let Some(secs) = get("SANDBOX_CLOCK_OFFSET_SECS") {
            config.clock_offset_secs = parse("SANDBOX_CLOCK_OFFSET_SECS", &secs)?;
        }
        if let Some(origins) = get("SANDBOX_ALLOWED_ORIGINS") {
            config.allowed_origins = origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(switch) = get("SANDBOX_CONTROLS") {
            config.controls = on_off("SANDBOX_CONTROLS", &switch)?;
        }
        config.webhook = webhook(get("SANDBOX_WEBHOOK_URL"), get("SANDBOX_WEBHOOK_SECRETS"))?;
        if let Some(secs) = get("SANDBOX_WEBHOOK_RETRY_FOR_SECS") {
            config.webhook_retry_for = ttl("SANDBOX_WEBHOOK_RETRY_FOR_SECS", &secs)?;
        }
        Ok(config)
    }
}

/// The endpoint and its secrets: both or neither.
fn webhook(
    url: Option<String>,
    secrets: Option<String>,
) -> Result<Option<crate::webhook_endpoint::Webhook>, ConfigError> {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return match secrets {
            Some(_) => Err(ConfigError {
                name: "SANDBOX_WEBHOOK_SECRETS",
                problem: "set without SANDBOX_WEBHOOK_URL".into(),
            }),
            None => Ok(None),
        };
    };
    let url = url.trim().to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError {
            name: "SANDBOX_WEBHOOK_URL",
            problem: format!("{url:?} is not an http:// or https:// URL"),
        });
    }
    let secrets = secrets
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(crate::webhook_endpoint::WebhookSecret::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| ConfigError {
            name: "SANDBOX_WEBHOOK_SECRETS",
            problem: problem.into(),
        })?;
    if secrets.is_empty() {
        return Err(ConfigError {
            name: "SANDBOX_WEBHOOK_SECRETS",
            problem: "a webhook endpoint needs at least one signing secret".into(),
        });
    }
    Ok(Some(crate::webhook_endpoint::Webhook { url, secrets }))
}

fn on_off(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(ConfigError {
            name,
            problem: format!("{other:?} is not on or off"),
        }),
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| ConfigError {
        name,
        problem: format!("cannot parse {value:?}: {e}"),
    })
}

/// A share between 0 and 1.
fn share(name: &'static str, value: &str) -> Result<f64, ConfigError> {
    let rate: f64 = parse(name, value)?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(ConfigError {
            name,
            problem: format!("{rate} is not between 0 and 1"),
        })
    }
}

fn ttl(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
    match parse::<u64>(name, value)? {
        0 => Err(ConfigError {
            name,
            problem: "a lifetime of 0 seconds makes every token born expired".into(),
        }),
        secs => Ok(Duration::from_secs(secs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_variable_is_named() {
        let err = Config::from_lookup(|n| {
            (n == "SANDBOX_CHECKOUT_TOKEN_TTL_SECS").then(|| "soon".to_owned())
        })
        .unwrap_err();
        assert_eq!(err.name, "SANDBOX_CHECKOUT_TOKEN_TTL_SECS");
    }

    #[test]
    fn a_zero_lifetime_is_refused() {
        let err =
            Config::from_lookup(|n| (n == "SANDBOX_OAUTH_TOKEN_TTL_SECS").then(|| "0".into()))
                .unwrap_err();
        assert_eq!(err.name, "SANDBOX_OAUTH_TOKEN_TTL_SECS");
    }

    #[test]
    fn a_fault_share_outside_0_to_1_is_refused() {
        let err = Config::from_lookup(|n| (n == "SANDBOX_FAULT_ERROR_RATE").then(|| "1.5".into()))
            .unwrap_err();
        assert_eq!(err.name, "SANDBOX_FAULT_ERROR_RATE");
        let ok = Config::from_lookup(|n| (n == "SANDBOX_FAULT_ERROR_RATE").then(|| "0.25".into()))
            .unwrap();
        assert_eq!(ok.faults.error_rate, 0.25);
    }

    #[test]
    fn controls_are_on_unless_switched_off_and_only_on_or_off_is_read() {
        assert!(Config::from_lookup(|_| None).unwrap().controls);
        let off = Config::from_lookup(|n| (n == "SANDBOX_CONTROLS").then(|| "off".into()));
        assert!(!off.unwrap().controls);
        let err = Config::from_lookup(|n| (n == "SANDBOX_CONTROLS").then(|| "yes".into()));
        assert_eq!(err.unwrap_err().name, "SANDBOX_CONTROLS");
    }

    #[test]
    fn a_webhook_endpoint_comes_with_its_secrets() {
        let read = |url: Option<&str>, secrets: Option<&str>| {
            Config::from_lookup(|n| match n {
                "SANDBOX_WEBHOOK_URL" => url.map(Into::into),
                "SANDBOX_WEBHOOK_SECRETS" => secrets.map(Into::into),
                _ => None,
            })
        };
        assert!(read(None, None).unwrap().webhook.is_none());
        let both = read(
            Some("http://127.0.0.1:3000/webhooks/alternative"),
            Some("whsec_0123456789abcdef, whsec_fedcba9876543210"),
        );
        assert_eq!(both.unwrap().webhook.unwrap().secrets.len(), 2);
        for (url, secrets, name) in [
            (Some("http://x/hook"), None, "SANDBOX_WEBHOOK_SECRETS"),
            (
                None,
                Some("whsec_0123456789abcdef"),
                "SANDBOX_WEBHOOK_SECRETS",
            ),
            (
                Some("http://x/hook"),
                Some("letmein"),
                "SANDBOX_WEBHOOK_SECRETS",
            ),
            (
                Some("ftp://x/hook"),
                Some("whsec_0123456789abcdef"),
                "SANDBOX_WEBHOOK_URL",
            ),
        ] {
            assert_eq!(read(url, secrets).unwrap_err().name, name);
        }
    }

    #[test]
    fn origins_are_split_and_trimmed() {
        let config = Config::from_lookup(|n| {
            (n == "SANDBOX_ALLOWED_ORIGINS").then(|| " http://a:1 , http://b:2 ,".into())
        })
        .unwrap();
        assert_eq!(config.allowed_origins, ["http://a:1", "http://b:2"]);
    }
}
