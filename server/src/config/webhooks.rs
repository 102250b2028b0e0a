//! The webhooks section: how the vendor's events reach the merchant — its
//! signed deliveries, and the catch-up on its event list for what they miss.

use std::time::Duration;

use alternative_client::webhook::WebhookSecrets;
use serde::Deserialize;

use super::ConfigError;

/// How often the vendor's event list is read by default: a payment whose
/// event was lost is recorded within five minutes, for one vendor call.
const DEFAULT_EVENTS_CATCH_UP: Duration = Duration::from_secs(300);

/// The variables, as the environment names them (upper-cased).
#[derive(Deserialize)]
pub(super) struct Raw {
    merchant_webhook_secrets: Option<String>,
    merchant_events_catch_up_secs: Option<u64>,
}

#[derive(Debug)]
pub struct Webhooks {
    /// The secrets the vendor signs its events with (`MERCHANT_WEBHOOK_SECRETS`,
    /// comma-separated `whsec_…`: two during a rotation). Unset with the
    /// embedded sandbox: one is made at start and given to both.
    pub secrets: Option<WebhookSecrets>,
    /// How often the vendor's event list is read for events the webhook
    /// endpoint missed (`MERCHANT_EVENTS_CATCH_UP_SECS`, 300 by default;
    /// `0`: never). `None`: off.
    pub catch_up: Option<Duration>,
}

impl Webhooks {
    pub(super) fn read(raw: Raw) -> Result<Self, ConfigError> {
        let secrets = raw
            .merchant_webhook_secrets
            .map(|list| {
                WebhookSecrets::parse(&list)
                    .map_err(|problem| ConfigError::malformed("MERCHANT_WEBHOOK_SECRETS", problem))
            })
            .transpose()?;
        let catch_up = match raw.merchant_events_catch_up_secs {
            None => Some(DEFAULT_EVENTS_CATCH_UP),
            Some(0) => None,
            Some(secs) if secs <= 86_400 => Some(Duration::from_secs(secs)),
            Some(secs) => {
                return Err(ConfigError::malformed(
                    "MERCHANT_EVENTS_CATCH_UP_SECS",
                    format!("{secs} is not a whole number of seconds from 0 (off) to 86400"),
                ))
            }
        };
        Ok(Self { secrets, catch_up })
    }
}
