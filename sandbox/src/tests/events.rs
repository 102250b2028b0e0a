//! Events: stored with the payment they report, listed and resent through
//! the partner API, delivered signed to a real HTTP endpoint, retried with
//! backoff and given up after their period.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use serde_json::Value;

use super::{harness, harness_with, pay_1001, Harness, NOW};
use crate::events::{self, signature_header, Webhook, WebhookSecret, SIGNATURE_HEADER};
use crate::{Config, ManualClock};

const SECRET: &str = "whsec_test_0123456789abcdef";

/// A webhook endpoint on a real socket: it keeps what it was sent and
/// answers with the status it is told to.
#[derive(Clone, Default)]
struct Endpoint {
    received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answer: Arc<AtomicU16>,
}

impl Endpoint {
    async fn start(answer: StatusCode) -> (Self, String) {
        let endpoint = Self::default();
        endpoint.answer(answer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(endpoint.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (endpoint, url)
    }

    fn answer(&self, status: StatusCode) {
        self.answer.store(status.as_u16(), Ordering::SeqCst);
    }

    fn received(&self) -> Vec<(HeaderMap, String)> {
        self.received.lock().unwrap().clone()
    }
}

async fn receive(State(endpoint): State<Endpoint>, headers: HeaderMap, body: String) -> StatusCode {
    endpoint.received.lock().unwrap().push((headers, body));
    StatusCode::from_u16(endpoint.answer.load(Ordering::SeqCst)).unwrap()
}

async fn delivering_to(url: &str, retry_for_secs: u64) -> Harness {
    let config = Config {
        webhook: Some(Webhook {
            url: url.to_owned(),
            secrets: vec![WebhookSecret::parse(SECRET).unwrap()],
        }),
        webhook_retry_for: Duration::from_secs(retry_for_secs),
        ..Config::unlimited_in_memory()
    };
    harness_with(config, ManualClock::starting_at(NOW)).await
}

impl Harness {
    /// Pays inv_1001: the payment, and the checkout token that paid.
    async fn pay_1001_once(&self) -> (Value, String) {
        let token = self.checkout_token("cus_acme", "inv_1001").await;
        let reply = self.pay(&token, Some("key-1"), pay_1001()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        (reply.body, token)
    }

    async fn deliver(&self) -> usize {
        let webhook = self.sandbox.config.webhook.clone().unwrap();
        events::deliver_due(&self.sandbox, &reqwest::Client::new(), &webhook)
            .await
            .unwrap()
    }

    async fn events(&self, query: &str) -> super::Reply {
        let oauth = self.oauth_token().await;
        self.get(&format!("/v1/events{query}"), &oauth).await
    }

    async fn resend(&self, id: &str) -> super::Reply {
        let oauth = self.oauth_token().await;
        self.send(
            Request::post(format!("/v1/events/{id}/resend"))
                .header(header::AUTHORIZATION, format!("Bearer {oauth}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

#[tokio::test]
async fn a_payment_is_stored_with_its_event_once_and_the_partner_reads_the_invoice_paid() {
    let h = harness().await;
    let (payment, token) = h.pay_1001_once().await;
    // A repeat replayed by idempotency is no new payment, and no new event.
    assert_eq!(
        h.pay(&token, Some("key-1"), pay_1001()).await.status,
        StatusCode::CREATED
    );

    let listed = h.events("").await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = listed.body.as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let event = &listed[0];
    assert_eq!(event["type"], "payment.succeeded");
    // No endpoint configured: it waits, stored.
    assert_eq!(event["delivery_status"], "pending");
    assert_eq!(event["event"]["id"], event["id"]);
    assert_eq!(event["event"]["data"]["payment"]["id"], payment["id"]);
    assert_eq!(event["event"]["data"]["payment"]["amount"], "1250.00");
    assert_eq!(event["event"]["data"]["invoice"]["id"], "inv_1001");
    assert_eq!(event["event"]["data"]["invoice"]["customer_id"], "cus_acme");
    assert_eq!(h.sandbox.stats().events.created, 1);

    let oauth = h.oauth_token().await;
    let invoice = h.get("/v1/invoices/inv_1001", &oauth).await;
    assert_eq!(invoice.status, StatusCode::OK);
    assert_eq!(invoice.body["status"], "paid");
    assert_eq!(invoice.body["payment"]["id"], payment["id"]);
    let open = h.get("/v1/invoices/inv_1002", &oauth).await;
    assert_eq!(open.body["status"], "open");
    assert_eq!(open.body["payment"], Value::Null);
    for missing in ["inv_nope", "inv%20x"] {
        assert_eq!(
            h.get(&format!("/v1/invoices/{missing}"), &oauth)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    // A checkout token is not the partner's OAuth token.
    assert_eq!(
        h.get("/v1/invoices/inv_1001", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_delivery_is_signed_over_the_exact_body_and_retried_until_acknowledged() {
    let (endpoint, url) = Endpoint::start(StatusCode::INTERNAL_SERVER_ERROR).await;
    let h = delivering_to(&url, 3600).await;
    h.pay_1001_once().await;

    assert_eq!(h.deliver().await, 1);
    let listed = h.events("").await.body;
    assert_eq!(listed[0]["delivery_status"], "pending");
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["last_error"], "HTTP 500");
    // Not due again before its backoff (1 s and a little).
    assert_eq!(h.deliver().await, 0);

    endpoint.answer(StatusCode::NO_CONTENT);
    h.clock.advance(Duration::from_secs(2));
    assert_eq!(h.deliver().await, 1);
    assert_eq!(h.events("").await.body[0]["delivery_status"], "delivered");
    assert_eq!(h.deliver().await, 0, "a delivered event is not sent again");

    let received = endpoint.received();
    assert_eq!(received.len(), 2);
    let (headers, body) = &received[1];
    assert_eq!(body, &received[0].1, "every attempt sends the same bytes");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        headers["alternative-event-id"],
        event["id"].as_str().unwrap()
    );
    // Signed at the time of the attempt, with the endpoint's secret.
    let signature = headers[SIGNATURE_HEADER].to_str().unwrap();
    let expected = signature_header(
        &[WebhookSecret::parse(SECRET).unwrap()],
        NOW + 2,
        body.as_bytes(),
    );
    assert_eq!(signature, expected);

    let counts = h.sandbox.stats().events;
    assert_eq!(
        (
            counts.created,
            counts.delivered,
            counts.retried,
            counts.failed
        ),
        (1, 1, 1, 0)
    );
}

#[tokio::test]
async fn an_event_never_acknowledged_fails_after_its_period_and_a_resend_delivers_it() {
    let (endpoint, url) = Endpoint::start(StatusCode::SERVICE_UNAVAILABLE).await;
    let h = delivering_to(&url, 10).await;
    h.pay_1001_once().await;
    for _ in 0..20 {
        h.deliver().await;
        h.clock.advance(Duration::from_secs(1));
    }
    let listed = h.events("?status=failed").await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed:?}");
    let attempts = listed[0]["attempts"].as_i64().unwrap();
    assert!(
        (3..=5).contains(&attempts),
        "backoff 1, 2, 4 … s within 10 s: {attempts}"
    );
    assert_eq!(h.sandbox.stats().events.failed, 1);
    assert_eq!(h.events("?status=pending").await.body, Value::Array(vec![]));

    endpoint.answer(StatusCode::OK);
    let id = listed[0]["id"].as_str().unwrap();
    let resent = h.resend(id).await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{:?}", resent.body);
    assert_eq!(resent.body["delivery_status"], "pending");
    assert_eq!(h.deliver().await, 1);
    assert_eq!(h.events("").await.body[0]["delivery_status"], "delivered");
    assert_eq!(endpoint.received().len() as i64, attempts + 1);
}

#[tokio::test]
async fn the_event_calls_refuse_what_they_do_not_know() {
    let h = harness().await;
    assert_eq!(
        h.events("?status=lost").await.status,
        StatusCode::BAD_REQUEST
    );
    let twice = h.events("?status=pending&status=failed").await;
    assert_eq!(
        (twice.status, twice.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    assert_eq!(h.resend("evt_nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.resend("evt%20x").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.get("/v1/events", "not-a-token").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_paused_delivery_keeps_events_waiting_and_a_reset_resumes_it_and_runs_the_hooks() {
    let h = harness().await;
    let paused = h
        .control_with("/sandbox/webhook", r#"{"paused": true}"#)
        .await;
    assert_eq!(paused.status, StatusCode::NO_CONTENT);
    assert!(h.sandbox.delivery_paused.load(Ordering::SeqCst));
    assert_eq!(
        h.control_with("/sandbox/webhook", r#"{"paused": "yes"}"#)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let resets = Arc::new(AtomicU16::new(0));
    h.sandbox.on_reset({
        let resets = resets.clone();
        move || {
            let resets = resets.clone();
            async move {
                resets.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    assert_eq!(
        h.control("/sandbox/reset").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(!h.sandbox.delivery_paused.load(Ordering::SeqCst));
    assert_eq!(resets.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_test_vendor_holds_its_events_back_while_paused_and_sends_them_on_resume() {
    let (endpoint, url) = Endpoint::start(StatusCode::NO_CONTENT).await;
    let vendor = crate::testing::TestVendor::start_with(Config {
        webhook: Some(Webhook {
            url,
            secrets: vec![WebhookSecret::parse(SECRET).unwrap()],
        }),
        ..Config::unlimited_in_memory()
    })
    .await;
    vendor.pause_events(true);
    assert!(vendor.sandbox().delivery_paused.load(Ordering::SeqCst));
    // A payment made while paused: its event is stored and waits.
    let h = Harness {
        router: vendor.sandbox().router(),
        clock: ManualClock::starting_at(NOW),
        sandbox: vendor.sandbox().clone(),
    };
    h.pay_1001_once().await;
    assert_eq!(h.sandbox.stats().events.created, 1);

    vendor.pause_events(false);
    // Waits for the delivery loop's request to reach the endpoint.
    let arrived = tokio::time::timeout(Duration::from_secs(10), async {
        while endpoint.received().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(arrived.is_ok(), "the waiting event goes out on resume");
    let (_, body) = &endpoint.received()[0];
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["type"], "payment.succeeded");
}
