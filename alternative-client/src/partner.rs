//! The vendor's partner API, with the merchant's OAuth token: an
//! invoice's settlement (`GET /v1/invoices/{id}`) and the event list
//! (`GET /v1/events`), each call on behalf of a caller in the quota, and
//! retried once with a new token if the vendor refuses the cached one.

use crate::answers::success_json;
use crate::client::VendorClient;
use crate::error::VendorError;
use crate::metrics::Endpoint;
use crate::retry::retrying;
use crate::secret::OAuthAccessToken;
use crate::transport::send;
use serde::Deserialize;

/// How many events one page of [`VendorClient::events_after`] holds at most.
pub const EVENT_PAGE: usize = 100;
const EVENT_PAGE_TEXT: &str = "100";
/// The catch-up's place in the quota: one caller, beside the customers.
const EVENTS_CALLER: &str = "(events)";

/// One event as the vendor's list shows it: its id, and the body it
/// delivers (or would).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListedEvent {
    pub id: String,
    #[serde(rename = "event")]
    pub body: serde_json::Value,
}

/// What [`VendorClient::events_after`] found.
#[derive(Debug)]
pub enum EventPage {
    /// The events after the cursor, oldest first (none: up to date).
    Events(Vec<ListedEvent>),
    /// The vendor holds no event by the cursor's id (another environment,
    /// or a sandbox reset): start again from the first.
    UnknownCursor,
}

/// `GET /v1/invoices/{id}`: an invoice's status (`open`, `paid`) and the
/// payment that settled it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Settlement {
    pub status: String,
    pub payment: Option<crate::webhook::Payment>,
}

impl VendorClient {
    /// Whether `invoice_id` is paid, and by which payment, read with the
    /// merchant's own credentials (`GET /v1/invoices/{id}`): how a merchant
    /// reconciles without waiting for the vendor's event. `customer_id` is
    /// whom the read is for: it takes that customer's place in the quota,
    /// as every call a customer causes does.
    pub async fn settlement(
        &self,
        invoice_id: &str,
        customer_id: &str,
    ) -> Result<Settlement, VendorError> {
        let url = format!("{}/v1/invoices/{invoice_id}", self.config.api_url);
        let settlement: Settlement = self
            .with_oauth(customer_id, Endpoint::Settlement, |http, oauth| {
                http.get(&url).bearer_auth(oauth.expose())
            })
            .await?;
        if let Some(payment) = &settlement.payment {
            payment.check().map_err(VendorError::Malformed)?;
        }
        Ok(settlement)
    }

    /// One page of the merchant's events, oldest first, from the one after
    /// `after` (from the first the vendor holds without it): how a merchant
    /// catches up on events its webhook endpoint missed. Each event is the
    /// body the vendor delivers, exactly; read it with
    /// [`crate::webhook::read_listed_event`]. A page shorter than
    /// [`EVENT_PAGE`] is the last.
    pub async fn events_after(&self, after: Option<&str>) -> Result<EventPage, VendorError> {
        let mut query = vec![("order", "oldest_first"), ("limit", EVENT_PAGE_TEXT)];
        if let Some(after) = after {
            query.push(("after", after));
        }
        let url = format!("{}/v1/events", self.config.api_url);
        let listed = self
            .with_oauth(EVENTS_CALLER, Endpoint::Events, |http, oauth| {
                http.get(&url).query(&query).bearer_auth(oauth.expose())
            })
            .await;
        match listed {
            Ok(events) => Ok(EventPage::Events(events)),
            Err(VendorError::Rejected { status: 404, .. }) if after.is_some() => {
                Ok(EventPage::UnknownCursor)
            }
            Err(other) => Err(other),
        }
    }

    /// A call made with the merchant's OAuth token on behalf of `caller`
    /// (its place in the quota), retried on transient failures; if the
    /// vendor refuses the cached token (revoked, or expired early), it is
    /// dropped and the call is made once more with a new one.
    async fn with_oauth<T, F>(
        &self,
        caller: &str,
        endpoint: Endpoint,
        request: F,
    ) -> Result<T, VendorError>
    where
        T: serde::de::DeserializeOwned,
        F: Fn(&reqwest::Client, &OAuthAccessToken) -> reqwest::RequestBuilder,
    {
        let call = |oauth: OAuthAccessToken| {
            let request = &request;
            async move {
                retrying(|| async {
                    self.turn(caller).await?;
                    let response = send(request(&self.http, &oauth), endpoint).await?;
                    success_json::<T>(response).await
                })
                .await
            }
        };
        let oauth = self.oauth_token().await?;
        match call(oauth.clone()).await {
            Err(VendorError::Rejected { status: 401, .. }) => {
                self.forget_oauth(&oauth).await;
                call(self.oauth_token().await?).await
            }
            other => other,
        }
    }
}
