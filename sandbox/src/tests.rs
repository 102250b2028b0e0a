//! The sandbox's HTTP contract, exercised through its router: the shared
//! harness here, the tests in a module per endpoint (or per concern that
//! spans endpoints: limits, cross-site requests, the process's life).

mod brute_force;
mod checkout_api;
mod cross_site;
mod ended;
mod event_cursor;
mod events;
mod init;
mod keys;
mod lifecycle;
mod limits;
mod oauth;
mod openapi;
mod payments;
mod pdf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::{Config, ManualClock, Sandbox};

const NOW: u64 = 1_800_000_000;

struct Harness {
    router: Router,
    clock: ManualClock,
    sandbox: Sandbox,
}

async fn harness() -> Harness {
    let clock = ManualClock::starting_at(NOW);
    harness_with(Config::unlimited_in_memory(), clock).await
}

async fn harness_with(config: Config, clock: ManualClock) -> Harness {
    let sandbox = Sandbox::open(config, clock.clone()).await.unwrap();
    Harness {
        router: sandbox.router(),
        clock,
        sandbox,
    }
}

fn basic(id: &str, secret: &str) -> String {
    let raw = format!("{id}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Harness {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn token_request(&self, authorization: Option<&str>, form: &str) -> Reply {
        let mut request = Request::post("/oauth/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(auth) = authorization {
            request = request.header(header::AUTHORIZATION, auth);
        }
        self.send(request.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    async fn oauth_token(&self) -> String {
        let reply = self
            .token_request(
                Some(&basic("demo_client_id", "demo_client_secret")),
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["access_token"].as_str().unwrap().to_owned()
    }

    async fn init(&self, bearer: &str, body: Value) -> Reply {
        self.send(
            Request::post("/v1/checkout-auth/init")
                .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn checkout_token(&self, customer: &str, invoice: &str) -> String {
        let oauth = self.oauth_token().await;
        let reply = self
            .init(
                &oauth,
                json!({"customer_id": customer, "invoice_id": invoice}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["token"].as_str().unwrap().to_owned()
    }

    async fn pay(&self, bearer: &str, key: Option<&str>, body: Value) -> Reply {
        let mut request = Request::post("/checkout/v1/payments")
            .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    async fn get(&self, path: &str, bearer: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
                .header(header::HOST, "sandbox.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A sandbox control, as a test harness calls it: with the marker header.
    async fn control(&self, path: &str) -> Reply {
        self.control_with(path, Body::empty()).await
    }

    async fn control_with(&self, path: &str, body: impl Into<Body>) -> Reply {
        self.send(
            Request::post(path)
                .header(crate::CONTROL_HEADER, "1")
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.into())
                .unwrap(),
        )
        .await
    }

    async fn get_invoice(&self, bearer: &str) -> Reply {
        self.send(
            Request::get("/checkout/v1/invoice")
                .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

/// The body that pays `inv_1001` in full with one of its customer's methods.
fn pay_1001() -> Value {
    json!({"payment_method_id": "pm_acme_visa", "amount": "1250.00"})
}
