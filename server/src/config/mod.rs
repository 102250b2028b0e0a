//! The merchant server's configuration, read once at start from the
//! environment (over a `.env` file, for what the environment does not set)
//! into typed sections, each in its file: [`vendor`], [`storage`],
//! [`network`], [`fleet`], [`webhooks`], [`observability`]. The `config`
//! crate reads each section's variables and parses their types; each
//! section then checks what types cannot say (a URL's scheme, a setting
//! refused in production). A missing or malformed variable is named in the
//! error.
//!
//! Every variable is a field of a section's `Raw` struct, and the list of
//! them ([`variables`]) is read off those structs: `.env.example` and the
//! README's and the book's tables are checked against it (`server/tests/env_example.rs`).

mod fields;
pub mod fleet;
pub mod network;
pub mod observability;
pub mod storage;
pub mod vendor;
pub mod webhooks;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::de::DeserializeOwned;

pub use fleet::Fleet;
pub use network::Network;
pub use observability::{LogFormat, Observability};
pub use storage::Storage;
pub use vendor::{Environment, Vendor, VendorSettings};
pub use webhooks::Webhooks;

#[derive(Debug)]
pub struct Config {
    pub vendor: VendorSettings,
    pub storage: Storage,
    pub network: Network,
    /// State shared with the other instances through Redis
    /// (`MERCHANT_REDIS_URL`); `None`: this instance keeps it in memory.
    pub fleet: Option<Fleet>,
    pub webhooks: Webhooks,
    pub observability: Observability,
    /// The `.env` file the settings were read over, if there was one.
    pub env_file: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{0} must be set for the demo and production environments, and with ALTERNATIVE_API_URL"
    )]
    Missing(&'static str),
    #[error("{name} is malformed: {problem}")]
    Malformed { name: String, problem: String },
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

impl ConfigError {
    pub(crate) fn malformed(name: &str, problem: impl Into<String>) -> Self {
        Self::Malformed {
            name: name.to_owned(),
            problem: problem.into(),
        }
    }
}

/// Every variable the server reads, as the environment names them.
pub fn variables() -> Vec<String> {
    [
        fields::of::<vendor::Raw>(),
        fields::of::<storage::Raw>(),
        fields::of::<network::Raw>(),
        fields::of::<fleet::Raw>(),
        fields::of::<webhooks::Raw>(),
        fields::of::<observability::Raw>(),
    ]
    .concat()
    .into_iter()
    .map(str::to_ascii_uppercase)
    .collect()
}

impl Config {
    /// The environment, over a `.env` file in the working directory if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env_file = match dotenvy::dotenv() {
            Ok(path) => Some(path),
            Err(e) if e.not_found() => None,
            Err(e) => return Err(ConfigError::malformed(".env", e.to_string())),
        };
        let config = Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))?;
        Ok(Self { env_file, ..config })
    }

    /// The settings `get` gives for each variable ([`variables`]); the
    /// embedded sandbox's own (`SANDBOX_…`) are asked of it too.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set: HashMap<String, String> = variables()
            .into_iter()
            .filter_map(|name| Some((name.to_ascii_lowercase(), get(&name)?)))
            .collect();
        let settings = Settings(
            config::Config::builder()
                .add_source(config::Environment::default().source(Some(set.into_iter().collect())))
                .build()
                .map_err(read_error)?,
        );
        let vendor = VendorSettings::read(settings.section()?, &get)?;
        let environment = vendor.environment();
        Ok(Self {
            storage: Storage::read(settings.section()?),
            network: Network::read(settings.section()?, environment)?,
            fleet: Fleet::read(settings.section()?)?,
            webhooks: Webhooks::read(settings.section()?)?,
            observability: Observability::read(settings.section()?)?,
            vendor,
            env_file: None,
        })
    }

    /// Whether demo users and invoices are seeded into an empty database and
    /// the page shows its developer panel: only in the sandbox environment.
    pub fn is_sandbox(&self) -> bool {
        self.vendor.environment() == Environment::Sandbox
    }
}

/// The variables as the `config` crate read them.
struct Settings(config::Config);

impl Settings {
    /// A section's `Raw` struct: each variable its field, typed.
    fn section<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.0.clone().try_deserialize().map_err(read_error)
    }
}

/// The `config` crate's error, with the variable's name as it is set.
fn read_error(error: config::ConfigError) -> ConfigError {
    match error {
        config::ConfigError::Type {
            key: Some(key),
            unexpected,
            expected,
            ..
        } => ConfigError::malformed(
            &key.to_ascii_uppercase(),
            format!("{unexpected} is not {expected}"),
        ),
        other => ConfigError::malformed("the configuration", other.to_string()),
    }
}
