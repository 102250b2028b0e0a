//! The vendor section: which vendor (the embedded sandbox, or one at a URL),
//! in which environment, who the merchant is to it, and the details in
//! which environments of the real API are reported to differ.
//!
//! With no `ALTERNATIVE_API_URL` in the sandbox environment, the server runs
//! the vendor sandbox itself and uses its demo client — if it was built with
//! the `embedded-sandbox` feature (a production build is not: the book,
//! `docs/src/production.md`).

use alternative_client::{ClientSecret, VendorConfig};
use serde::Deserialize;

use super::ConfigError;

/// The sandbox's documented demo client: published, so refused in production.
const DEMO_CLIENT_ID: &str = "demo_client_id";
const DEMO_CLIENT_SECRET: &str = "demo_client_secret";

/// What the sandbox's checkout tokens carry (its `iss` claim and header
/// `typ`); the real vendor's are not public, so there they are settings.
const SANDBOX_TOKEN_ISSUER: &str = "alternative-sandbox";
const SANDBOX_TOKEN_TYP: &str = "checkout+jwt";

/// The vendor's public environments. Tokens of one do not work in another.
pub const DEMO_URL: &str = "https://public-api.demo.alternativepayments.io";
pub const PRODUCTION_URL: &str = "https://public-api.alternativepayments.io";

/// The variables, as the environment names them (upper-cased).
#[derive(Deserialize)]
pub(super) struct Raw {
    alternative_environment: Option<String>,
    alternative_api_url: Option<String>,
    alternative_client_id: Option<String>,
    alternative_client_secret: Option<String>,
    alternative_init_path: Option<String>,
    alternative_token_field: Option<String>,
    alternative_jwks_url: Option<String>,
    alternative_token_issuer: Option<String>,
    alternative_token_typ: Option<String>,
    alternative_rate_limit_per_sec: Option<u32>,
}

/// `ALTERNATIVE_ENVIRONMENT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// The default: the embedded (or a local) sandbox, demo data, plain http.
    Sandbox,
    Demo,
    Production,
}

#[derive(Debug, Clone)]
pub enum Vendor {
    /// Start the sandbox in-process with this configuration.
    #[cfg(feature = "embedded-sandbox")]
    EmbeddedSandbox(Box<sandbox::Config>),
    /// A vendor already running at this URL (the real API, or a sandbox elsewhere).
    Remote { api_url: String },
}

/// Which JWKS verifies the checkout tokens (`ALTERNATIVE_JWKS_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Jwks {
    /// The vendor's own, at its API URL.
    VendorDefault,
    At(String),
    /// `off`: tokens are relayed unverified.
    Off,
}

#[derive(Debug)]
pub struct VendorSettings {
    pub kind: Vendor,
    environment: Environment,
    client_id: String,
    client_secret: ClientSecret,
    init_path: Option<String>,
    token_field: Option<String>,
    jwks: Jwks,
    token_issuer: Option<String>,
    token_typ: Option<String>,
    requests_per_second: Option<u32>,
}

impl VendorSettings {
    /// The section from its variables; `get` is asked for the embedded
    /// sandbox's own (`SANDBOX_…`).
    pub(super) fn read(
        raw: Raw,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let environment = environment(raw.alternative_environment.as_deref())?;
        let (kind, client_id, client_secret) = vendor_and_client(&raw, environment, get)?;
        check_variations(&raw)?;
        // Unset: the sandbox's value in its environment, else unchecked;
        // `off`: unchecked.
        let expected = |set: Option<String>, sandbox_value: &str| match set {
            Some(value) if value == "off" => None,
            Some(value) => Some(value),
            None => (environment == Environment::Sandbox).then(|| sandbox_value.to_owned()),
        };
        Ok(Self {
            kind,
            environment,
            client_id,
            client_secret: ClientSecret::new(client_secret),
            init_path: raw.alternative_init_path,
            token_field: raw.alternative_token_field,
            jwks: match raw.alternative_jwks_url {
                None => Jwks::VendorDefault,
                Some(url) if url == "off" => Jwks::Off,
                Some(url) => Jwks::At(url),
            },
            token_issuer: expected(raw.alternative_token_issuer, SANDBOX_TOKEN_ISSUER),
            token_typ: expected(raw.alternative_token_typ, SANDBOX_TOKEN_TYP),
            requests_per_second: raw.alternative_rate_limit_per_sec,
        })
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The vendor client's settings, once the vendor's URL is known.
    pub fn client_config(&self, api_url: &str) -> VendorConfig {
        let mut config = VendorConfig::new(api_url, &self.client_id, self.client_secret.clone());
        if let Some(path) = &self.init_path {
            config.init_path = path.clone();
        }
        if let Some(field) = &self.token_field {
            config.token_field = field.clone();
        }
        match &self.jwks {
            Jwks::VendorDefault => {}
            Jwks::At(url) => config.jwks_url = Some(url.clone()),
            Jwks::Off => config.jwks_url = None,
        }
        if let Some(rate) = self.requests_per_second {
            config.requests_per_second = rate;
        }
        config.token_issuer = self.token_issuer.clone();
        config.token_typ = self.token_typ.clone();
        config
    }
}

/// `ALTERNATIVE_ENVIRONMENT`: `sandbox` unless set.
fn environment(set: Option<&str>) -> Result<Environment, ConfigError> {
    match set {
        None | Some("sandbox") => Ok(Environment::Sandbox),
        Some("demo") => Ok(Environment::Demo),
        Some("production") => Ok(Environment::Production),
        Some(other) => Err(ConfigError::malformed(
            "ALTERNATIVE_ENVIRONMENT",
            format!("{other:?} is not sandbox, demo or production"),
        )),
    }
}

/// Which vendor, and the client id and secret the merchant has there: the
/// embedded sandbox and its demo client without a URL in the sandbox
/// environment, else the URL (the environment's own by default) and
/// credentials that must be set — never the sandbox's in production.
fn vendor_and_client(
    raw: &Raw,
    environment: Environment,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(Vendor, String, String), ConfigError> {
    let default_url = match environment {
        Environment::Sandbox => None,
        Environment::Demo => Some(DEMO_URL),
        Environment::Production => Some(PRODUCTION_URL),
    };
    let api_url = raw
        .alternative_api_url
        .clone()
        .or(default_url.map(str::to_owned));
    let (kind, client_id, client_secret) = match api_url {
        #[cfg(feature = "embedded-sandbox")]
        None => (
            Vendor::EmbeddedSandbox(Box::new(sandbox::Config::from_lookup(get)?)),
            raw.alternative_client_id
                .clone()
                .unwrap_or_else(|| DEMO_CLIENT_ID.into()),
            raw.alternative_client_secret
                .clone()
                .unwrap_or_else(|| DEMO_CLIENT_SECRET.into()),
        ),
        #[cfg(not(feature = "embedded-sandbox"))]
        None => {
            let _ = get;
            return Err(ConfigError::NoVendor);
        }
        Some(api_url) => (
            Vendor::Remote {
                api_url: checked_url(api_url, environment)?,
            },
            raw.alternative_client_id
                .clone()
                .ok_or(ConfigError::Missing("ALTERNATIVE_CLIENT_ID"))?,
            raw.alternative_client_secret
                .clone()
                .ok_or(ConfigError::Missing("ALTERNATIVE_CLIENT_SECRET"))?,
        ),
    };
    if environment == Environment::Production
        && (client_id == DEMO_CLIENT_ID || client_secret == DEMO_CLIENT_SECRET)
    {
        return Err(ConfigError::malformed(
            "ALTERNATIVE_CLIENT_ID",
            "the sandbox's published demo credentials are refused in production",
        ));
    }
    Ok((kind, client_id, client_secret))
}

/// The settings in which environments of the real API are reported to
/// differ: one of the known values each.
fn check_variations(raw: &Raw) -> Result<(), ConfigError> {
    if let Some(field) = raw
        .alternative_token_field
        .as_deref()
        .filter(|f| !matches!(*f, "token" | "access_token"))
    {
        return Err(ConfigError::malformed(
            "ALTERNATIVE_TOKEN_FIELD",
            format!("{field:?} is not token or access_token"),
        ));
    }
    if let Some(path) = raw
        .alternative_init_path
        .as_deref()
        .filter(|p| !p.starts_with('/'))
    {
        return Err(ConfigError::malformed(
            "ALTERNATIVE_INIT_PATH",
            format!("{path:?} does not start with /"),
        ));
    }
    Ok(())
}

/// `api_url` if it names a scheme, and — outside the sandbox, where the
/// client secret and the OAuth token travel to it — never plain http to
/// another machine.
fn checked_url(api_url: String, environment: Environment) -> Result<String, ConfigError> {
    let plain = api_url.strip_prefix("http://");
    if !(api_url.starts_with("https://") || plain.is_some()) {
        return Err(ConfigError::malformed(
            "ALTERNATIVE_API_URL",
            "must start with https:// (or http:// for a local sandbox)",
        ));
    }
    if plain.is_some_and(|rest| !loopback(rest)) && environment != Environment::Sandbox {
        let name = match environment {
            Environment::Demo => "demo",
            _ => "production",
        };
        return Err(ConfigError::malformed(
            "ALTERNATIVE_API_URL",
            format!(
                "http:// to a host that is not this machine is refused in the {name} \
                 environment: use https://"
            ),
        ));
    }
    Ok(api_url)
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
