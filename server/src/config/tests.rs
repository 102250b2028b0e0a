//! The configuration as a whole: each variable named in its error, each
//! environment's defaults, the settings refused where they are unsafe.

use super::vendor::PRODUCTION_URL;
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
    assert!(matches!(config.vendor.kind, Vendor::EmbeddedSandbox(_)));
    let vendor = config.vendor.client_config("http://127.0.0.1:3030");
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
    let vendor = from(&production)
        .unwrap()
        .vendor
        .client_config(PRODUCTION_URL);
    assert_eq!((vendor.token_issuer, vendor.token_typ), (None, None));
    let mut set = production.to_vec();
    set.push(("ALTERNATIVE_TOKEN_ISSUER", "https://issuer.example"));
    set.push(("ALTERNATIVE_TOKEN_TYP", "JWT"));
    let vendor = from(&set).unwrap().vendor.client_config(PRODUCTION_URL);
    assert_eq!(
        vendor.token_issuer.as_deref(),
        Some("https://issuer.example")
    );
    assert_eq!(vendor.token_typ.as_deref(), Some("JWT"));
    let off = from(&[("ALTERNATIVE_TOKEN_TYP", "off")]).unwrap();
    assert_eq!(off.vendor.client_config("http://x").token_typ, None);
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
    assert!(from(&[]).unwrap().network.rate_limits);
    assert!(
        !from(&[("MERCHANT_RATE_LIMITS", "off")])
            .unwrap()
            .network
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
        Err(ConfigError::Malformed { name, .. }) if name == "MERCHANT_RATE_LIMITS"
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
    assert!(matches!(&config.vendor.kind, Vendor::Remote { api_url } if api_url == PRODUCTION_URL));
    assert!(
        config.network.secure_cookies,
        "production cookies are HTTPS-only"
    );
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
    let vendor = config
        .vendor
        .client_config("https://public-api.demo.alternativepayments.io");
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
        from(&pairs).unwrap().webhooks.catch_up
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
    let secs = |config: Config| config.network.session_max_age.as_secs();
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
            matches!(&err, ConfigError::Malformed { name, .. } if name == "MERCHANT_INSTANCES"),
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
