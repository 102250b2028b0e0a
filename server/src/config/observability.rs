//! The observability section: how the log is written, and where the
//! metrics are served.

use std::net::SocketAddr;

use serde::Deserialize;

use super::ConfigError;

/// The variables, as the environment names them (upper-cased).
#[derive(Deserialize)]
pub(super) struct Raw {
    log_format: Option<String>,
    merchant_metrics_addr: Option<String>,
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For a person at a terminal (the default).
    Text,
    /// One JSON object per line, with the request's span (its
    /// `request_id`) in each: for a log collector.
    Json,
}

#[derive(Debug)]
pub struct Observability {
    pub log_format: LogFormat,
    /// Where the Prometheus metrics are served (`MERCHANT_METRICS_ADDR`);
    /// `None`: no metrics kept or served.
    pub metrics_addr: Option<SocketAddr>,
}

impl Observability {
    pub(super) fn read(raw: Raw) -> Result<Self, ConfigError> {
        let log_format = match raw.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::malformed(
                    "LOG_FORMAT",
                    format!("{other:?} is not text or json"),
                ))
            }
        };
        let metrics_addr = raw
            .merchant_metrics_addr
            .map(|addr| {
                addr.parse().map_err(|_| {
                    ConfigError::malformed(
                        "MERCHANT_METRICS_ADDR",
                        format!("{addr:?} is not an address:port"),
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            log_format,
            metrics_addr,
        })
    }
}
