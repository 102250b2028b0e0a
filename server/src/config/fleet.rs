//! The fleet section: several instances sharing the vendor quota, the
//! OAuth token, ended sessions, limits and tokens through one Redis.

use serde::Deserialize;

use super::ConfigError;

/// The variables, as the environment names them (upper-cased).
#[derive(Deserialize)]
pub(super) struct Raw {
    merchant_redis_url: Option<String>,
    merchant_redis_prefix: Option<String>,
    merchant_instances: Option<u32>,
}

/// A fleet of instances: where they share their state, and how many they
/// are at most.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// `MERCHANT_REDIS_URL`; its password never shown.
    pub redis_url: merchant::db::SecretUrl,
    /// `MERCHANT_REDIS_PREFIX` (`merchant:` by default): the start of every
    /// key, so that one Redis can serve several merchants or test runs.
    pub key_prefix: String,
    /// `MERCHANT_INSTANCES`: the most instances that run at once (one more
    /// during a rolling deploy). While Redis is unreachable each takes this
    /// share of the vendor quota.
    pub instances: u32,
}

impl Fleet {
    /// `None` without `MERCHANT_REDIS_URL`: this instance keeps its state
    /// in memory.
    pub(super) fn read(raw: Raw) -> Result<Option<Self>, ConfigError> {
        let Some(url) = raw.merchant_redis_url else {
            return Ok(None);
        };
        let instances = raw.merchant_instances.filter(|&n| n > 0).ok_or_else(|| {
            ConfigError::malformed(
                "MERCHANT_INSTANCES",
                "how many instances share MERCHANT_REDIS_URL at most, 1 or more",
            )
        })?;
        Ok(Some(Self {
            redis_url: merchant::db::SecretUrl::new(url),
            key_prefix: raw
                .merchant_redis_prefix
                .unwrap_or_else(|| "merchant:".into()),
            instances,
        }))
    }
}
