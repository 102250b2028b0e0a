//! The partner's webhook endpoint as configured: where events are
//! delivered, and the secrets they are signed with. Configuration only, so
//! that the configuration needs nothing of the events that use it.

/// A signing secret of the webhook endpoint: `whsec_` and at least 16 more
/// characters. Never printed, never serialised.
#[derive(Clone)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn parse(secret: &str) -> Result<Self, &'static str> {
        let secret = secret.trim();
        match secret.strip_prefix("whsec_") {
            Some(rest) if rest.len() >= 16 && rest.bytes().all(|b| b.is_ascii_graphic()) => {
                Ok(Self(secret.to_owned()))
            }
            _ => Err("a signing secret is whsec_ and at least 16 visible characters"),
        }
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(redacted)")
    }
}

/// The partner's endpoint (`SANDBOX_WEBHOOK_URL`) and its signing secrets
/// (`SANDBOX_WEBHOOK_SECRETS`, comma-separated: during a rotation both the
/// old and the new one sign).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    pub secrets: Vec<WebhookSecret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_whsec_and_long_enough_and_never_printed() {
        assert!(WebhookSecret::parse("whsec_short").is_err());
        assert!(WebhookSecret::parse("0123456789abcdef0123").is_err());
        let secret = WebhookSecret::parse(" whsec_0123456789abcdef ").unwrap();
        assert_eq!(secret.expose(), "whsec_0123456789abcdef");
        assert!(!format!("{secret:?}").contains("0123"));
    }
}
