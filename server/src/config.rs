//! The merchant server's configuration, read once from the environment.
//!
//! With no `ALTERNATIVE_API_URL`, the server runs the vendor sandbox itself
//! and uses its demo client; with one, it needs the real credentials too.

use merchant::ClientSecret;

/// The sandbox's documented demo client.
const DEMO_CLIENT_ID: &str = "demo_client_id";
const DEMO_CLIENT_SECRET: &str = "demo_client_secret";

#[derive(Debug)]
pub enum Vendor {
    /// Start the sandbox in-process with this configuration.
    EmbeddedSandbox(sandbox::Config),
    /// A vendor already running at this URL (the real API, or a sandbox elsewhere).
    Remote { api_url: String },
}

#[derive(Debug)]
pub struct Config {
    pub vendor: Vendor,
    pub client_id: String,
    pub client_secret: ClientSecret,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} must be set when ALTERNATIVE_API_URL is set")]
    Missing(&'static str),
    #[error("{name} is malformed: {problem}")]
    Malformed { name: &'static str, problem: String },
    #[error(transparent)]
    Sandbox(#[from] sandbox::ConfigError),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match get("ALTERNATIVE_API_URL") {
            None => Ok(Self {
                vendor: Vendor::EmbeddedSandbox(sandbox::Config::from_lookup(&get)?),
                client_id: get("ALTERNATIVE_CLIENT_ID").unwrap_or_else(|| DEMO_CLIENT_ID.into()),
                client_secret: ClientSecret::new(
                    get("ALTERNATIVE_CLIENT_SECRET").unwrap_or_else(|| DEMO_CLIENT_SECRET.into()),
                ),
            }),
            Some(api_url) => {
                if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
                    return Err(ConfigError::Malformed {
                        name: "ALTERNATIVE_API_URL",
                        problem: "must start with https:// (or http:// for a local sandbox)".into(),
                    });
                }
                Ok(Self {
                    vendor: Vendor::Remote { api_url },
                    client_id: get("ALTERNATIVE_CLIENT_ID")
                        .ok_or(ConfigError::Missing("ALTERNATIVE_CLIENT_ID"))?,
                    client_secret: ClientSecret::new(
                        get("ALTERNATIVE_CLIENT_SECRET")
                            .ok_or(ConfigError::Missing("ALTERNATIVE_CLIENT_SECRET"))?,
                    ),
                })
            }
        }
    }
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

    #[test]
    fn nothing_set_means_the_embedded_sandbox_and_its_demo_client() {
        let config = from(&[]).unwrap();
        assert!(matches!(config.vendor, Vendor::EmbeddedSandbox(_)));
        assert_eq!(config.client_id, "demo_client_id");
        assert_eq!(config.client_secret.expose(), "demo_client_secret");
    }

    #[test]
    fn a_vendor_url_requires_real_credentials() {
        let err = from(&[(
            "ALTERNATIVE_API_URL",
            "https://public-api.demo.alternativepayments.io",
        )])
        .unwrap_err();
        assert!(matches!(err, ConfigError::Missing("ALTERNATIVE_CLIENT_ID")));
        let config = from(&[
            (
                "ALTERNATIVE_API_URL",
                "https://public-api.demo.alternativepayments.io",
            ),
            ("ALTERNATIVE_CLIENT_ID", "id"),
            ("ALTERNATIVE_CLIENT_SECRET", "s3cret"),
        ])
        .unwrap();
        assert!(matches!(config.vendor, Vendor::Remote { .. }));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn a_url_without_a_scheme_is_named() {
        let err =
            from(&[("ALTERNATIVE_API_URL", "public-api.alternativepayments.io")]).unwrap_err();
        assert!(err.to_string().contains("ALTERNATIVE_API_URL"));
    }
}
