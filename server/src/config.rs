//! The merchant server's configuration, read once at start from the
//! environment (and a `.env` file, if present, for what the environment
//! does not set). A missing or malformed variable is named in the error.
//!
//! With no `ALTERNATIVE_API_URL` in the sandbox environment, the server runs
//! the vendor sandbox itself and uses its demo client — if it was built with
//! the `embedded-sandbox` feature (a production build is not: README).

use alternative_client::webhook::WebhookSecrets;
use alternative_client::{ClientSecret, VendorConfig};

use crate::proxies::{ForwardedHeader, TrustedProxies};

/// The sandbox's documented demo client: published, so refused in production.
const DEMO_CLIENT_ID: &str = "demo_client_id";
const DEMO_CLIENT_SECRET: &str = "demo_client_secret";

/// What the sandbox's checkout tokens carry (its `iss` claim and header
/// `typ`); the real vendor's are not public, so there they are settings.
const SANDBOX_TOKEN_ISSUER: &str = "alternative-sandbox";
const SANDBOX_TOKEN_TYP: &str = "checkout+jwt";

/// How log lines are written (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For a person at a terminal (the default).
    Text,
    /// One JSON object per line, with the request's span (its
    /// `request_id`) in each: for a log collector.
    Json,
}

/// How often the vendor's event list is read by default: a payment whose
/// event was lost is recorded within five minutes, for one vendor call.
const DEFAULT_EVENTS_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(300);

/// The vendor's public environments. Tokens of one do not work in another.
const DEMO_URL: &str = "https://public-api.demo.alternativepayments.io";
const PRODUCTION_URL: &str = "https://public-api.alternativepayments.io";

#[derive(Debug, Clone)]
pub enum Vendor {
    /// Start the sandbox in-process with this configuration.
    #[cfg(feature = "embedded-sandbox")]
    EmbeddedSandbox(Box<sandbox::Config>),
    /// A vendor already running at this URL (the real API, or a sandbox elsewhere).
    Remote { api_url: String },
}

/// A fleet of instances: where they share the vendor quota and the OAuth
/// token, and how many they are at most.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// `MERCHANT_REDIS_URL`; its password never shown.
    pub redis_url: merchant::db::DatabaseUrl,
    /// `MERCHANT_REDIS_PREFIX` (`merchant:` by default): the start of every
    /// key, so that one Redis can serve several merchants or test runs.
    pub key_prefix: String,
    /// `MERCHANT_INSTANCES`: the most instances that run at once (one more
    /// during a rolling deploy). While Redis is unreachable each takes this
    /// share of the vendor quota.
    pub instances: u32,
}

#[derive(Debug)]
pub struct Config {
    pub vendor: Vendor,
    /// `sandbox`, `demo` or `production` (`ALTERNATIVE_ENVIRONMENT`).
    environment: String,
    /// The merchant's database, SQLite or PostgreSQL: users, invoices,
    /// sessions, payments (`MERCHANT_DATABASE_URL`; its password never shown).
    pub merchant_database_url: merchant::db::DatabaseUrl,
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
    pub log_format: LogFormat,
    /// Where the Prometheus metrics are served (`MERCHANT_METRICS_ADDR`);
    /// `None`: no metrics kept or served.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// State shared with the other instances through Redis
    /// (`MERCHANT_REDIS_URL`); `None`: this instance keeps it in memory.
    pub fleet: Option<Fleet>,
    /// The `.env` file the settings were read over, if there was one.
    pub env_file: Option<std::path::PathBuf>,
    /// How long a log-in lasts from log-in, however busy its session
    /// (`MERCHANT_SESSION_MAX_AGE_SECS`, 12 hours by default).
    pub session_max_age: std::time::Duration,
    /// The secrets the vendor signs its events with (`MERCHANT_WEBHOOK_SECRETS`,
    /// comma-separated `whsec_…`: two during a rotation). Unset with the
    /// embedded sandbox: one is made at start and given to both.
    pub webhook_secrets: Option<WebhookSecrets>,
    /// How often the vendor's event list is read for events the webhook
    /// endpoint missed (`MERCHANT_EVENTS_CATCH_UP_SECS`, 300 by default;
    /// `0`: never). `None`: off.
    pub events_catch_up: Option<std::time::Duration>,
    client_id: String,
    client_secret: ClientSecret,
    init_path: Option<String>,
    token_field: Option<String>,
    /// `None`: the vendor's default JWKS URL; `Some(None)`: verification off.
    jwks_url: Option<Option<String>>,
    token_issuer: Option<String>,
    token_typ: Option<String>,
    requests_per_second: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{0} must be set for the demo and production environments, and with ALTERNATIVE_API_URL"
    )]
    Missing(&'static str),
    #[error("{name} is malformed: {problem}")]
    Malformed { name: &'static str, problem: String },
    #[cfg(feature = "embedded-sandbox")]
    #[error(transparent)]
    Sandbox(#[from] sandbox::ConfigError),
    #[cfg(not(feature = "embedded-sandbox"))]
    #[error(
        "ALTERNATIVE_API_URL must be set: this build has no embedded sandbox \
         (build with the embedded-sandbox feature for one)"
    )]
    NoVendor,
}

impl Config {
    /// The environment, over a `.env` file in the working directory if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env_file = match dotenvy::dotenv() {
            Ok(path) => Some(path),
            Err(e) if e.not_found() => None,
            Err(e) => {
                return Err(ConfigError::Malformed {
                    name: ".env",
                    problem: e.to_string(),
                })
            }
        };
        let config = Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))?;
        Ok(Self { env_file, ..config })
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environment = get("ALTERNATIVE_ENVIRONMENT").unwrap_or_else(|| "sandbox".into());
        let default_url = match environment.as_str() {
            "sandbox" => None,
            "demo" => Some(DEMO_URL),
            "production" => Some(PRODUCTION_URL),
            other => {
                return Err(ConfigError::Malformed {
                    name: "ALTERNATIVE_ENVIRONMENT",
                    problem: format!("{other:?} is not sandbox, demo or production"),
                })
            }
        };
        let api_url = get("ALTERNATIVE_API_URL").or(default_url.map(str::to_owned));
        let (vendor, client_id, client_secret) = match api_url {
            #[cfg(feature = "embedded-sandbox")]
            None => (
                Vendor::EmbeddedSandbox(Box::new(sandbox::Config::from_lookup(&get)?)),
                get("ALTERNATIVE_CLIENT_ID").unwrap_or_else(|| DEMO_CLIENT_ID.into()),
                get("ALTERNATIVE_CLIENT_SECRET").unwrap_or_else(|| DEMO_CLIENT_SECRET.into()),
            ),
            #[cfg(not(feature = "embedded-sandbox"))]
            None => return Err(ConfigError::NoVendor),
            Some(api_url) => {
                let plain = api_url.strip_prefix("http://");
                if !(api_url.starts_with("https://") || plain.is_some()) {
                    return Err(ConfigError::Malformed {
                        name: "ALTERNATIVE_API_URL",
                        problem: "must start with https:// (or http:// for a local sandbox)".into(),
                    });
                }
                // Outside the sandbox the client secret and the OAuth token
                // travel to this URL: never in clear over a network.
                if plain.is_some_and(|rest| !loopback(rest)) && environment != "sandbox" {
                    return Err(ConfigError::Malformed {
                        name: "ALTERNATIVE_API_URL",
                        problem: format!(
                            "http:// to a host that is not this machine is refused in the \
                             {environment} environment: use https://"
                        ),
                    });
                }
                (
                    Vendor::Remote { api_url },
                    get("ALTERNATIVE_CLIENT_ID")
                        .ok_or(ConfigError::Missing("ALTERNATIVE_CLIENT_ID"))?,
                    get("ALTERNATIVE_CLIENT_SECRET")
                        .ok_or(ConfigError::Missing("ALTERNATIVE_CLIENT_SECRET"))?,
                )
            }
        };
        if environment == "production"
            && (client_id == DEMO_CLIENT_ID || client_secret == DEMO_CLIENT_SECRET)
        {
            return Err(ConfigError::Malformed {
                name: "ALTERNATIVE_CLIENT_ID",
                problem: "the sandbox's published demo credentials are refused in production"
                    .into(),
            });
        }
        let token_field = get("ALTERNATIVE_TOKEN_FIELD");
        if let Some(field) = token_field
            .as_deref()
            .filter(|f| !matches!(*f, "token" | "access_token"))
        {
            return Err(ConfigError::Malformed {
                name: "ALTERNATIVE_TOKEN_FIELD",
                problem: format!("{field:?} is not token or access_token"),
            });
        }
        let init_path = get("ALTERNATIVE_INIT_PATH");
        if let Some(path) = init_path.as_deref().filter(|p| !p.starts_with('/')) {
            return Err(ConfigError::Malformed {
                name: "ALTERNATIVE_INIT_PATH",
                problem: format!("{path:?} does not start with /"),
            });
        }
        let requests_per_second = get("ALTERNATIVE_RATE_LIMIT_PER_SEC")
            .map(|v| {
                v.parse().map_err(|_| ConfigError::Malformed {
                    name: "ALTERNATIVE_RATE_LIMIT_PER_SEC",
                    problem: format!("{v:?} is not a whole number"),
                })
            })
            .transpose()?;
        let secure_cookies = match get("MERCHANT_SECURE_COOKIES").as_deref() {
            None => environment != "sandbox",
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(ConfigError::Malformed {
                    name: "MERCHANT_SECURE_COOKIES",
                    problem: format!("{other:?} is not true or false"),
                })
            }
        };
        let rate_limits = match get("MERCHANT_RATE_LIMITS").as_deref() {
            None | Some("on") => true,
            Some("off") if environment != "production" => false,
            Some(other) => {
                return Err(ConfigError::Malformed {
                    name: "MERCHANT_RATE_LIMITS",
                    problem: format!("{other:?} is not on or off (off is refused in production)"),
                })
            }
        };
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Malformed {
                    name: "LOG_FORMAT",
                    problem: format!("{other:?} is not text or json"),
                })
            }
        };
        let metrics_addr = get("MERCHANT_METRICS_ADDR")
            .map(|addr| {
                addr.parse().map_err(|_| ConfigError::Malformed {
                    name: "MERCHANT_METRICS_ADDR",
                    problem: format!("{addr:?} is not an address:port"),
                })
            })
            .transpose()?;
        let forwarded_header = match get("MERCHANT_FORWARDED_HEADER") {
            None => ForwardedHeader::XForwardedFor,
            Some(name) => name.parse().map_err(|problem| ConfigError::Malformed {
                name: "MERCHANT_FORWARDED_HEADER",
                problem,
            })?,
        };
        let trusted_proxies = match get("MERCHANT_TRUSTED_PROXIES") {
            None => TrustedProxies::none(),
            Some(list) => TrustedProxies::parse(&list, forwarded_header).map_err(|problem| {
                ConfigError::Malformed {
                    name: "MERCHANT_TRUSTED_PROXIES",
                    problem,
                }
            })?,
        };
        // Unset: the sandbox's value in its environment, else unchecked;
        // `off`: unchecked.
        let expected = |name: &str, sandbox_value: &str| match get(name) {
            Some(value) if value == "off" => None,
            Some(value) => Some(value),
            None => (environment == "sandbox").then(|| sandbox_value.to_owned()),
        };
        let token_issuer = expected("ALTERNATIVE_TOKEN_ISSUER", SANDBOX_TOKEN_ISSUER);
        let token_typ = expected("ALTERNATIVE_TOKEN_TYP", SANDBOX_TOKEN_TYP);
        let webhook_secrets = get("MERCHANT_WEBHOOK_SECRETS")
            .map(|list| {
                WebhookSecrets::parse(&list).map_err(|problem| ConfigError::Malformed {
                    name: "MERCHANT_WEBHOOK_SECRETS",
                    problem: problem.into(),
                })
            })
            .transpose()?;
        let events_catch_up = match get("MERCHANT_EVENTS_CATCH_UP_SECS") {
            None => Some(DEFAULT_EVENTS_CATCH_UP),
            Some(secs) => match secs.parse::<u64>() {
                Ok(0) => None,
                Ok(secs) if secs <= 86_400 => Some(std::time::Duration::from_secs(secs)),
                _ => {
                    return Err(ConfigError::Malformed {
                        name: "MERCHANT_EVENTS_CATCH_UP_SECS",
                        problem: format!(
                            "{secs:?} is not a whole number of seconds from 0 (off) to 86400"
                        ),
                    })
                }
            },
        };
        let fleet = get("MERCHANT_REDIS_URL")
            .map(|url| -> Result<Fleet, ConfigError> {
                let problem = "how many instances share MERCHANT_REDIS_URL at most, 1 or more";
                let instances = get("MERCHANT_INSTANCES")
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|&n| n > 0)
                    .ok_or(ConfigError::Malformed {
                        name: "MERCHANT_INSTANCES",
                        problem: problem.to_owned(),
                    })?;
                Ok(Fleet {
                    redis_url: merchant::db::DatabaseUrl::new(url),
                    key_prefix: get("MERCHANT_REDIS_PREFIX").unwrap_or_else(|| "merchant:".into()),
                    instances,
                })
            })
            .transpose()?;
        Ok(Self {
            session_max_age: session_max_age(&get)?,
            fleet,
            webhook_secrets,
            events_catch_up,
            vendor,
            environment,
            rate_limits,
            trusted_proxies,
            log_format,
            metrics_addr,
            env_file: None,
            merchant_database_url: merchant::db::DatabaseUrl::new(
                get("MERCHANT_DATABASE_URL").unwrap_or_else(|| "sqlite://data/merchant.db".into()),
            ),
            secure_cookies,
            public_origins: get("MERCHANT_PUBLIC_ORIGINS")
                .map(|list| {
                    list.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            client_id,
            client_secret: ClientSecret::new(client_secret),
            init_path,
            token_field,
            jwks_url: get("ALTERNATIVE_JWKS_URL").map(|url| (url != "off").then_some(url)),
            token_issuer,
            token_typ,
            requests_per_second,
        })
    }

    /// Whether demo users and invoices are seeded into an empty database and
    /// the page shows its developer panel: only in the sandbox environment.
    pub fn is_sandbox(&self) -> bool {
        self.environment == "sandbox"
    }

    /// The vendor client's settings, once the vendor's URL is known.
    pub fn vendor_config(self, api_url: &str) -> VendorConfig {
        let mut config = VendorConfig::new(api_url, &self.client_id, self.client_secret);
        if let Some(path) = self.init_path {
            config.init_path = path;
        }
        if let Some(field) = self.token_field {
            config.token_field = field;
        }
        if let Some(jwks_url) = self.jwks_url {
            config.jwks_url = jwks_url;
        }
        if let Some(rate) = self.requests_per_second {
            config.requests_per_second = rate;
        }
        config.token_issuer = self.token_issuer;
        config.token_typ = self.token_typ;
        config
    }
}

/// The longest `MERCHANT_SESSION_MAX_AGE_SECS` allowed: a week. Longer is
/// not a session but a "remember me", which this site does not offer.
const MAX_SESSION_MAX_AGE_SECS: u64 = 7 * 24 * 3600;

/// `MERCHANT_SESSION_MAX_AGE_SECS`: seconds, from 1 to a week.
fn session_max_age(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<std::time::Duration, ConfigError> {
    let Some(value) = get("MERCHANT_SESSION_MAX_AGE_SECS") else {
        return Ok(merchant::SESSION_MAX_AGE);
    };
    value
        .parse::<u64>()
        .ok()
        .filter(|secs| (1..=MAX_SESSION_MAX_AGE_SECS).contains(secs))
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| ConfigError::Malformed {
            name: "MERCHANT_SESSION_MAX_AGE_SECS",
            problem: format!(
                "{value:?} is not a whole number of seconds from 1 to {MAX_SESSION_MAX_AGE_SECS} (a week)"
            ),
        })
}

/// Whether the host of `rest` (a URL after `http://`) is this machine.
fn loopback(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| env.get(name).cloned())
    }

    #[cfg(feature = "embedded-sandbox")]
    #[test]
    fn nothing_set_means_the_embedded_sandbox_and_its_demo_client() {
        let config = from(&[]).unwrap();
        assert!(matches!(config.vendor, Vendor::EmbeddedSandbox(_)));
        let vendor = config.vendor_config("http://127.0.0.1:3030");
        assert_eq!(vendor.client_id, "demo_client_id");
        assert_eq!(vendor.client_secret.expose(), "demo_client_secret");
        assert_eq!(vendor.init_path, "/v1/checkout-auth/init");
        assert_eq!(
            vendor.jwks_url.as_deref(),
            Some("http://127.0.0.1:3030/.well-known/jwks.json")
        );
        assert_eq!(vendor.token_issuer.as_deref(), Some("alternative-sandbox"));
        assert_eq!(vendor.token_typ.as_deref(), Some("checkout+jwt"));
    }

    #[test]
    fn plain_http_to_another_machine_is_refused_outside_the_sandbox() {
        let with = |environment: &'static str, url: &'static str| {
            from(&[
                ("ALTERNATIVE_ENVIRONMENT", environment),
                ("ALTERNATIVE_API_URL", url),
                ("ALTERNATIVE_CLIENT_ID", "id"),
                ("ALTERNATIVE_CLIENT_SECRET", "s"),
            ])
        };
        for url in [
            "http://vendor.example",
            "http://10.0.0.5:3030/",
            "http://127.0.0.1.example",
        ] {
            let error = with("production", url).unwrap_err().to_string();
            assert!(
                error.starts_with("ALTERNATIVE_API_URL is malformed: http:// to a host"),
                "{url}: {error}"
            );
            assert!(with("demo", url).is_err(), "{url}");
            assert!(with("sandbox", url).is_ok(), "{url}");
        }
        for url in [
            "http://127.0.0.1:3030",
            "http://localhost:3030/",
            "http://[::1]:3030",
            "https://vendor.example",
        ] {
            assert!(with("production", url).is_ok(), "{url}");
        }
    }

    #[test]
    fn production_refuses_the_sandboxs_published_demo_credentials() {
        for (id, secret) in [("demo_client_id", "real"), ("real", "demo_client_secret")] {
            let error = from(&[
                ("ALTERNATIVE_ENVIRONMENT", "production"),
                ("ALTERNATIVE_CLIENT_ID", id),
                ("ALTERNATIVE_CLIENT_SECRET", secret),
            ])
            .unwrap_err();
            assert_eq!(
                error.to_string(),
                "ALTERNATIVE_CLIENT_ID is malformed: the sandbox's published demo credentials are refused in production"
            );
        }
    }

    #[cfg(feature = "embedded-sandbox")] // reads the sandbox environment's defaults
    #[test]
    fn issuer_and_typ_are_checked_where_known_and_settable_elsewhere() {
        let production = [
            ("ALTERNATIVE_ENVIRONMENT", "production"),
            ("ALTERNATIVE_CLIENT_ID", "id"),
            ("ALTERNATIVE_CLIENT_SECRET", "s"),
        ];
        let vendor = from(&production).unwrap().vendor_config(PRODUCTION_URL);
        assert_eq!((vendor.token_issuer, vendor.token_typ), (None, None));
        let mut set = production.to_vec();
        set.push(("ALTERNATIVE_TOKEN_ISSUER", "https://issuer.example"));
        set.push(("ALTERNATIVE_TOKEN_TYP", "JWT"));
        let vendor = from(&set).unwrap().vendor_config(PRODUCTION_URL);
        assert_eq!(
            vendor.token_issuer.as_deref(),
            Some("https://issuer.example")
        );
        assert_eq!(vendor.token_typ.as_deref(), Some("JWT"));
        let off = from(&[("ALTERNATIVE_TOKEN_TYP", "off")]).unwrap();
        assert_eq!(off.vendor_config("http://x").token_typ, None);
    }

    /// Built without the sandbox (`--bin-features production`), a missing
    /// vendor URL is an error, not a fake vendor.
    #[cfg(not(feature = "embedded-sandbox"))]
    #[test]
    fn without_the_embedded_sandbox_a_vendor_url_is_required() {
        assert!(matches!(from(&[]), Err(ConfigError::NoVendor)));
    }

    #[cfg(feature = "embedded-sandbox")] // reads the sandbox environment's defaults
    #[test]
    fn rate_limits_are_on_unless_a_benchmark_turns_them_off_outside_production() {
        assert!(from(&[]).unwrap().rate_limits);
        assert!(
            !from(&[("MERCHANT_RATE_LIMITS", "off")])
                .unwrap()
                .rate_limits
        );
        let production = [
            ("ALTERNATIVE_ENVIRONMENT", "production"),
            ("ALTERNATIVE_CLIENT_ID", "id"),
            ("ALTERNATIVE_CLIENT_SECRET", "s"),
            ("MERCHANT_RATE_LIMITS", "off"),
        ];
        assert!(matches!(
            from(&production),
            Err(ConfigError::Malformed {
                name: "MERCHANT_RATE_LIMITS",
                ..
            })
        ));
    }

    #[test]
    fn a_public_environment_needs_real_credentials_and_never_prints_them() {
        let err = from(&[("ALTERNATIVE_ENVIRONMENT", "demo")]).unwrap_err();
        assert!(matches!(err, ConfigError::Missing("ALTERNATIVE_CLIENT_ID")));
        let config = from(&[
            ("ALTERNATIVE_ENVIRONMENT", "production"),
            ("ALTERNATIVE_CLIENT_ID", "id"),
            ("ALTERNATIVE_CLIENT_SECRET", "s3cret"),
            (
                "MERCHANT_DATABASE_URL",
                "postgres://shop:pg-s3cret@db.internal/shop",
            ),
        ])
        .unwrap();
        assert!(matches!(&config.vendor, Vendor::Remote { api_url } if api_url == PRODUCTION_URL));
        assert!(config.secure_cookies, "production cookies are HTTPS-only");
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn the_reported_variations_of_the_real_api_are_settings() {
        let config = from(&[
            (
                "ALTERNATIVE_API_URL",
                "https://public-api.demo.alternativepayments.io",
            ),
            ("ALTERNATIVE_CLIENT_ID", "id"),
            ("ALTERNATIVE_CLIENT_SECRET", "s"),
            ("ALTERNATIVE_INIT_PATH", "/checkout-auth/init"),
            ("ALTERNATIVE_TOKEN_FIELD", "access_token"),
            ("ALTERNATIVE_JWKS_URL", "off"),
            ("ALTERNATIVE_RATE_LIMIT_PER_SEC", "10"),
        ])
        .unwrap();
        let vendor = config.vendor_config("https://public-api.demo.alternativepayments.io");
        assert_eq!(vendor.init_path, "/checkout-auth/init");
        assert_eq!(vendor.token_field, "access_token");
        assert_eq!(vendor.jwks_url, None);
        assert_eq!(vendor.requests_per_second, 10);
    }

    #[cfg(feature = "embedded-sandbox")] // reads the sandbox environment's defaults
    #[test]
    fn malformed_values_are_named() {
        for (name, value) in [
            ("ALTERNATIVE_API_URL", "public-api.alternativepayments.io"),
            ("ALTERNATIVE_ENVIRONMENT", "staging"),
            ("ALTERNATIVE_TOKEN_FIELD", "jwt"),
            ("ALTERNATIVE_INIT_PATH", "v1/init"),
            ("ALTERNATIVE_RATE_LIMIT_PER_SEC", "fast"),
            ("MERCHANT_TRUSTED_PROXIES", "10.0.0.0/8, balancer.internal"),
            ("MERCHANT_FORWARDED_HEADER", "x-real-ip"),
            ("MERCHANT_METRICS_ADDR", "9100"),
            ("LOG_FORMAT", "logfmt"),
            ("MERCHANT_WEBHOOK_SECRETS", "letmein"),
            ("MERCHANT_EVENTS_CATCH_UP_SECS", "5m"),
            ("MERCHANT_EVENTS_CATCH_UP_SECS", "-1"),
            ("MERCHANT_EVENTS_CATCH_UP_SECS", "86401"),
        ] {
            let err = from(&[
                (name, value),
                ("ALTERNATIVE_CLIENT_ID", "id"),
                ("ALTERNATIVE_CLIENT_SECRET", "s"),
            ])
            .unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn the_catch_up_runs_every_five_minutes_unless_told_otherwise() {
        let remote = [
            ("ALTERNATIVE_API_URL", "https://vendor.example"),
            ("ALTERNATIVE_CLIENT_ID", "id"),
            ("ALTERNATIVE_CLIENT_SECRET", "s"),
        ];
        let with = |secs: Option<&str>| {
            let mut pairs = remote.to_vec();
            pairs.extend(secs.map(|s| ("MERCHANT_EVENTS_CATCH_UP_SECS", s)));
            from(&pairs).unwrap().events_catch_up
        };
        assert_eq!(with(None), Some(std::time::Duration::from_secs(300)));
        assert_eq!(with(Some("30")), Some(std::time::Duration::from_secs(30)));
        assert_eq!(with(Some("0")), None);
    }

    #[test]
    fn a_session_lasts_twelve_hours_unless_set_to_a_second_up_to_a_week() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = vec![
                ("ALTERNATIVE_API_URL", "http://127.0.0.1:3030"),
                ("ALTERNATIVE_CLIENT_ID", "id"),
                ("ALTERNATIVE_CLIENT_SECRET", "s"),
            ];
            pairs.extend_from_slice(extra);
            from(&pairs)
        };
        let secs = |config: Config| config.session_max_age.as_secs();
        assert_eq!(secs(with(&[]).unwrap()), 43_200);
        let name = "MERCHANT_SESSION_MAX_AGE_SECS";
        assert_eq!(secs(with(&[(name, "3600")]).unwrap()), 3600);
        assert_eq!(secs(with(&[(name, "604800")]).unwrap()), 604_800);
        for bad in ["0", "-1", "604801", "12h", "1.5"] {
            let err = with(&[(name, bad)]).unwrap_err().to_string();
            assert!(
                err.starts_with("MERCHANT_SESSION_MAX_AGE_SECS is malformed"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_shared_redis_needs_the_number_of_instances() {
        // A remote vendor: the same in every feature set (production has
        // no embedded sandbox).
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = vec![
                ("ALTERNATIVE_API_URL", "http://127.0.0.1:3030"),
                ("ALTERNATIVE_CLIENT_ID", "id"),
                ("ALTERNATIVE_CLIENT_SECRET", "s"),
            ];
            pairs.extend_from_slice(extra);
            from(&pairs)
        };
        let redis = ("MERCHANT_REDIS_URL", "redis://127.0.0.1:6379");
        for bad in [None, Some("0"), Some("three"), Some("-1")] {
            let err = match bad {
                None => with(&[redis]),
                Some(n) => with(&[redis, ("MERCHANT_INSTANCES", n)]),
            }
            .unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Malformed {
                        name: "MERCHANT_INSTANCES",
                        ..
                    }
                ),
                "{err}"
            );
        }
        let fleet = with(&[redis, ("MERCHANT_INSTANCES", "2")])
            .unwrap()
            .fleet
            .unwrap();
        assert_eq!(
            (fleet.key_prefix.as_str(), fleet.instances),
            ("merchant:", 2)
        );
        assert!(with(&[]).unwrap().fleet.is_none(), "in memory unless asked");
    }
}
