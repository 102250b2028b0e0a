//! The vendor API as the durability drill uses it, playing both the
//! merchant's backend (OAuth, init) and the customer's browser (pay). Every
//! call is retried until the vendor answers — a refused connection, a reset,
//! a timeout or a 5xx is no answer — because the vendor is being killed
//! underneath it; what an answer says is left to the caller.

use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use drivers::Error;

/// Give up on an answer after this long: the vendor is down for good.
const PATIENCE: Duration = Duration::from_secs(60);

pub struct Vendor {
    http: reqwest::Client,
    url: String,
    oauth: Mutex<Option<String>>,
}

/// The vendor's answer to one payment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The payment's id on a 201; the error's `code` otherwise.
    pub said: String,
    pub replayed: bool,
}

impl Vendor {
    pub fn new(http: reqwest::Client, url: String) -> Self {
        Self {
            http,
            url,
            oauth: Mutex::new(None),
        }
    }

    /// Sends what `request` builds until the vendor answers; how many
    /// attempts it took.
    async fn answer(
        &self,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<(reqwest::Response, u32), Error> {
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match request().timeout(Duration::from_secs(5)).send().await {
                Ok(response) if !response.status().is_server_error() => {
                    return Ok((response, attempts))
                }
                _ if started.elapsed() > PATIENCE => {
                    return Err(format!("no answer after {attempts} attempts").into())
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn oauth_token(&self) -> Result<String, Error> {
        let mut cached = self.oauth.lock().await;
        if let Some(token) = cached.as_ref() {
            return Ok(token.clone());
        }
        let (response, _) = self
            .answer(|| {
                self.http
                    .post(format!("{}/oauth/token", self.url))
                    .basic_auth("demo_client_id", Some("demo_client_secret"))
                    .form(&[("grant_type", "client_credentials")])
            })
            .await?;
        let body: Value = response.error_for_status()?.json().await?;
        let token = body["access_token"]
            .as_str()
            .ok_or("no access_token")?
            .to_owned();
        *cached = Some(token.clone());
        Ok(token)
    }

    /// A checkout token for one of alice's invoices.
    pub async fn checkout_token(&self, invoice_id: &str) -> Result<String, Error> {
        let oauth = self.oauth_token().await?;
        let (response, _) = self
            .answer(|| {
                self.http
                    .post(format!("{}/v1/checkout-auth/init", self.url))
                    .bearer_auth(&oauth)
                    .json(
                        &json!({"customer_id": drivers::setup::CUSTOMER, "invoice_id": invoice_id}),
                    )
            })
            .await?;
        if response.status() != StatusCode::OK {
            return Err(format!("init for {invoice_id}: HTTP {}", response.status()).into());
        }
        let body: Value = response.json().await?;
        Ok(body["token"].as_str().ok_or("no token")?.to_owned())
    }

    /// Pays the token's invoice (10.00 USD, alice's card) under `key`; the
    /// answer, and how many attempts it took.
    pub async fn pay(&self, token: &str, key: &str) -> Result<(Answer, u32), Error> {
        let (response, attempts) = self
            .answer(|| {
                self.http
                    .post(format!("{}/checkout/v1/payments", self.url))
                    .bearer_auth(token)
                    .header("idempotency-key", key)
                    .json(&json!({"payment_method_id": "pm_acme_visa", "amount": "10.00"}))
            })
            .await?;
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let said = if status == 201 {
            body["id"].as_str().unwrap_or_default().to_owned()
        } else {
            body["code"].as_str().unwrap_or_default().to_owned()
        };
        Ok((
            Answer {
                status,
                said,
                replayed,
            },
            attempts,
        ))
    }
}
