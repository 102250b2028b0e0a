//! The sandbox's HTTP contract, exercised through its router.

mod brute_force;
mod cross_site;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
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
        self.send(
            Request::post(path)
                .header(crate::CONTROL_HEADER, "1")
                .body(Body::empty())
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

#[tokio::test]
async fn client_credentials_grant_issues_an_uncacheable_bearer_token() {
    let h = harness().await;
    let reply = h
        .token_request(
            Some(&basic("demo_client_id", "demo_client_secret")),
            "grant_type=client_credentials",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3600);
    assert!(reply.body["access_token"]
        .as_str()
        .unwrap()
        .starts_with("sbx_oat_"));
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(h.sandbox.stats().oauth_tokens_issued, 1);
}

#[tokio::test]
async fn client_credentials_in_the_form_body_are_accepted() {
    let h = harness().await;
    let reply = h
        .token_request(
            None,
            "grant_type=client_credentials&client_id=demo_client_id&client_secret=demo_client_secret",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn t10_wrong_secret_unknown_client_and_missing_basic_get_one_invalid_client_answer() {
    let h = harness().await;
    let wrong_secret = h
        .token_request(
            Some(&basic("demo_client_id", "nope")),
            "grant_type=client_credentials",
        )
        .await;
    let unknown = h
        .token_request(
            Some(&basic("who", "demo_client_secret")),
            "grant_type=client_credentials",
        )
        .await;
    let missing = h.token_request(None, "grant_type=client_credentials").await;
    for reply in [&wrong_secret, &unknown, &missing] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body["error"], "invalid_client");
        assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    }
    assert_eq!(wrong_secret.body, unknown.body);
    assert_eq!(h.sandbox.stats().oauth_tokens_issued, 0);
}

#[tokio::test]
async fn t10_a_grant_other_than_client_credentials_is_unsupported() {
    let h = harness().await;
    let auth = basic("demo_client_id", "demo_client_secret");
    let reply = h.token_request(Some(&auth), "grant_type=password").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"], "unsupported_grant_type");
    let reply = h.token_request(Some(&auth), "").await;
    assert_eq!(reply.body["error"], "invalid_request");
    let reply = h
        .token_request(
            Some(&auth),
            "grant_type=client_credentials&grant_type=client_credentials",
        )
        .await;
    assert_eq!(reply.body["error"], "invalid_request");
}

#[tokio::test]
async fn a_checkout_token_reads_exactly_its_invoice() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h.get_invoice(&token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["invoice_number"], "INV-1001");
    assert_eq!(reply.body["total"], "1250.00");
    assert_eq!(reply.body["currency"], "USD");
    assert_eq!(reply.body["status"], "open");
    assert_eq!(h.sandbox.stats().checkout_tokens_issued, 1);
}

#[tokio::test]
async fn init_reports_expiry_as_rfc3339_lifetime_from_now() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1002"}),
        )
        .await;
    let expires_at = reply.body["expires_at"].as_str().unwrap();
    let parsed =
        time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert_eq!(parsed.unix_timestamp() as u64, NOW + 900);
}

#[tokio::test]
async fn a_skewed_clock_shows_in_expires_at_and_in_every_answers_date() {
    let config = Config {
        clock_offset_secs: -300,
        ..Config::unlimited_in_memory()
    };
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let oauth = h.oauth_token().await;
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1002"}),
        )
        .await;
    let expires_at =
        time::OffsetDateTime::parse(reply.body["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(expires_at.unix_timestamp() as u64, NOW - 300 + 900);
    let date = reply.headers[header::DATE].to_str().unwrap();
    let date = httpdate::parse_http_date(date).unwrap();
    assert_eq!(
        date.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        NOW - 300
    );
}

#[tokio::test]
async fn init_refuses_a_missing_invoice_id_a_foreign_invoice_and_no_token() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let reply = h.init(&oauth, json!({"customer_id": "cus_acme"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["message"], "invalid invoice id");

    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_2001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let reply = h
        .init(
            "sbx_oat_forged",
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "invalid_token");
    assert!(reply.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
}

#[tokio::test]
async fn t1_an_expired_checkout_token_gets_access_token_expired_after_the_leeway() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    h.clock
        .advance(Duration::from_secs(900 + crate::token::LEEWAY_SECS));
    assert_eq!(h.get_invoice(&token).await.status, StatusCode::OK);
    h.clock.advance(Duration::from_secs(1));
    let reply = h.get_invoice(&token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "access_token_expired");
    assert_eq!(h.sandbox.stats().unauthorized.access_token_expired, 1);
}

#[tokio::test]
async fn an_expired_oauth_token_cannot_mint() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    h.clock.advance(Duration::from_secs(3600));
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "access_token_expired");
}

#[tokio::test]
async fn t8_oauth_and_checkout_tokens_cannot_stand_in_for_each_other() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let checkout = h.checkout_token("cus_acme", "inv_1001").await;
    assert_eq!(h.get_invoice(&oauth).await.body["code"], "invalid_token");
    let reply = h
        .init(
            &checkout,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.body["code"], "invalid_token");
}

#[tokio::test]
async fn a_token_in_the_query_string_is_ignored_rfc6750_2_3() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h
        .send(
            Request::get(format!("/checkout/v1/invoice?access_token={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_admits_the_merchant_origin_only() {
    let h = harness().await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/checkout/v1/invoice")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = h.send(preflight("http://127.0.0.1:3000")).await;
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:3000"
    );
    let refused = h.send(preflight("https://evil.example")).await;
    assert!(!refused
        .headers
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn serves_over_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sandbox = Sandbox::open(Config::in_memory(), crate::SystemClock)
        .await
        .unwrap();
    let server = tokio::spawn(sandbox.serve(listener, async {
        let _ = stopped.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /sandbox/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"oauth_tokens_issued\":0"));

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_checkout_token_verifies_against_the_published_jwks_with_a_plain_jwt_library() {
    use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h
        .send(
            Request::get("/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let jwks: JwkSet = serde_json::from_value(reply.body).unwrap();

    let kid = decode_header(&token).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["alternative-checkout"]);
    validation.set_issuer(&["alternative-sandbox"]);
    validation.validate_exp = false; // the harness clock is not the wall clock
    let claims = decode::<Value>(&token, &key, &validation).unwrap().claims;
    assert_eq!(claims["invoice_id"], "inv_1001");
    assert_eq!(claims["customer_id"], "cus_acme");
    assert_eq!(claims["partner_id"], "partner_demo");
    assert_eq!(claims["client_id"], "demo_client_id");
    assert_eq!(claims["exp"], NOW + 900);
}

#[tokio::test]
async fn after_key_rotation_old_tokens_still_work_and_both_keys_are_published() {
    let h = harness().await;
    let old = h.checkout_token("cus_acme", "inv_1001").await;
    // A forced rotation waits until the key has signed for a while (see controls).
    h.clock.advance(Duration::from_secs(
        crate::controls::FORCED_ROTATION_MIN_AGE_SECS,
    ));
    let rotated = h.control("/sandbox/rotate-keys").await;
    assert_eq!(rotated.status, StatusCode::NO_CONTENT);
    let new = h.checkout_token("cus_acme", "inv_1001").await;
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&old), kid(&new));
    assert_eq!(h.get_invoice(&old).await.status, StatusCode::OK);
    assert_eq!(h.get_invoice(&new).await.status, StatusCode::OK);
    let jwks = h
        .send(
            Request::get("/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
}

fn pay_1001() -> Value {
    json!({"payment_method_id": "pm_acme_visa", "amount": "1250.00"})
}

#[tokio::test]
async fn payment_methods_are_the_token_customers_own() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h.get("/checkout/v1/payment-methods", &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let ids: Vec<&str> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pm_acme_bank", "pm_acme_visa"]);
    assert_eq!(reply.body[1]["type"], "card");
    assert_eq!(reply.body[1]["last4"], "4242");
    assert!(reply.body[1].get("customer_id").is_none());
}

#[tokio::test]
async fn paying_marks_the_invoice_paid_and_is_counted() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let reply = h.pay(&token, Some("key-1"), pay_1001()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "succeeded");
    assert_eq!(reply.body["amount"], "1250.00");
    assert_eq!(reply.body["currency"], "USD");
    assert!(reply.body["id"].as_str().unwrap().starts_with("pay_"));
    assert_eq!(h.get_invoice(&token).await.body["status"], "paid");
    assert_eq!(h.sandbox.stats().payments, 1);
}

#[tokio::test]
async fn t9_the_same_idempotency_key_twice_replays_the_first_answer() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let first = h.pay(&token, Some("key-1"), pay_1001()).await;
    let second = h.pay(&token, Some("key-1"), pay_1001()).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(h.sandbox.stats().payments, 1);
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 1);
}

#[tokio::test]
async fn t9_the_same_idempotency_key_concurrently_makes_one_payment() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    // Polled together on one task, the requests interleave at every await.
    let replies =
        futures::future::join_all((0..16).map(|_| h.pay(&token, Some("key-c"), pay_1001()))).await;
    let ids: std::collections::HashSet<_> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 1);
}

#[tokio::test]
async fn t9_paying_a_paid_invoice_again_with_a_new_key_is_a_conflict() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    assert_eq!(
        h.pay(&token, Some("key-1"), pay_1001()).await.status,
        StatusCode::CREATED
    );
    let again = h.pay(&token, Some("key-2"), pay_1001()).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // …and no new checkout token can be had for it.
    let oauth = h.oauth_token().await;
    let init = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(init.status, StatusCode::CONFLICT);
    assert_eq!(h.sandbox.stats().payments, 1);
}

#[tokio::test]
async fn a_key_reused_for_a_different_request_is_refused_not_replayed() {
    let h = harness().await;
    let acme = h.checkout_token("cus_acme", "inv_1001").await;
    let globex = h.checkout_token("cus_globex", "inv_2001").await;
    assert_eq!(
        h.pay(&acme, Some("shared"), pay_1001()).await.status,
        StatusCode::CREATED
    );
    let other = h
        .pay(
            &globex,
            Some("shared"),
            json!({"payment_method_id": "pm_globex_mc", "amount": "89.99"}),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.body["code"], "idempotency_key_reused");
    assert!(
        !other.body.to_string().contains("pay_"),
        "nothing of the first payment leaks"
    );
}

#[tokio::test]
async fn t6_another_customers_payment_method_is_insufficient_scope_like_an_unknown_one() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let foreign = h
        .pay(
            &token,
            Some("k1"),
            json!({"payment_method_id": "pm_globex_mc", "amount": "1250.00"}),
        )
        .await;
    let unknown = h
        .pay(
            &token,
            Some("k2"),
            json!({"payment_method_id": "pm_nope", "amount": "1250.00"}),
        )
        .await;
    for reply in [&foreign, &unknown] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.body["code"], "insufficient_scope");
        assert!(reply.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("insufficient_scope"));
    }
    assert_eq!(foreign.body, unknown.body);
    assert_eq!(h.get_invoice(&token).await.body["status"], "open");
}

#[tokio::test]
async fn a_payment_needs_a_key_a_method_and_the_exact_total() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    assert_eq!(
        h.pay(&token, None, pay_1001()).await.status,
        StatusCode::BAD_REQUEST
    );
    let reply = h.pay(&token, Some("k"), json!({"amount": "1250.00"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = h
        .pay(
            &token,
            Some("k"),
            json!({"payment_method_id": "pm_acme_visa", "amount": "1,250"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = h
        .pay(
            &token,
            Some("k"),
            json!({"payment_method_id": "pm_acme_visa", "amount": "1249.99"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["code"], "amount_mismatch");
    // "1250" is the same amount as "1250.00".
    let reply = h
        .pay(
            &token,
            Some("k"),
            json!({"payment_method_id": "pm_acme_visa", "amount": "1250"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_pdf_link_serves_a_pdf_until_it_expires_and_only_with_its_signature() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let link = h.get("/checkout/v1/invoice/pdf-link", &token).await;
    assert_eq!(link.status, StatusCode::OK);
    let url = link.body["url"].as_str().unwrap();
    // The request said `Host: sandbox.test`; the link names the sandbox's
    // own address instead (`Config::addr` here, nothing being bound).
    let path = url
        .strip_prefix("http://127.0.0.1:3030")
        .unwrap_or_else(|| panic!("not from the Host header: {url}"));
    assert!(path.starts_with("/files/invoices/inv_1001.pdf?"));

    let pdf = h
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()[header::CONTENT_TYPE], "application/pdf");
    let bytes = pdf.into_body().collect().await.unwrap().to_bytes();
    assert!(bytes.starts_with(b"%PDF-1.4"));
    assert!(String::from_utf8_lossy(&bytes).contains("INV-1001"));

    let forged = path.replace("inv_1001.pdf", "inv_2001.pdf");
    let reply = h
        .send(Request::get(forged).body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    h.clock.advance(Duration::from_secs(301));
    let reply = h
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pdf_link_names_the_configured_public_url_whatever_the_host_header_says() {
    let config = Config {
        public_url: Some("https://files.sandbox.example".into()),
        ..Config::unlimited_in_memory()
    };
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    let link = h.get("/checkout/v1/invoice/pdf-link", &token).await;
    let url = link.body["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://files.sandbox.example/files/invoices/inv_1001.pdf?"),
        "{url}"
    );
}

#[tokio::test]
async fn a_pdf_link_stripped_of_its_signature_or_expiry_is_no_file_like_a_forged_one() {
    let h = harness().await;
    for path in [
        "/files/invoices/inv_1001.pdf",
        "/files/invoices/inv_1001.pdf?expires=1900000000",
        "/files/invoices/inv_1001.pdf?signature=AAAA",
        "/files/invoices/inv_1001.pdf?expires=soon&signature=AAAA",
    ] {
        let reply = h
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn a_payment_and_the_signing_key_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("sandbox-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = || Config {
        database_url: format!("sqlite://{}/sandbox.db", dir.display()),
        ..Config::in_memory()
    };
    let clock = ManualClock::starting_at(NOW);
    let (token, first_id) = {
        let sandbox = Sandbox::open(config(), clock.clone()).await.unwrap();
        let h = Harness {
            router: sandbox.router(),
            clock: clock.clone(),
            sandbox,
        };
        let token = h.checkout_token("cus_acme", "inv_1001").await;
        let paid = h.pay(&token, Some("restart-key"), pay_1001()).await;
        assert_eq!(paid.status, StatusCode::CREATED);
        h.sandbox.store.pool().close().await;
        (token, paid.body["id"].clone())
    };
    let sandbox = Sandbox::open(config(), clock.clone()).await.unwrap();
    let h = Harness {
        router: sandbox.router(),
        clock,
        sandbox,
    };
    // The token still verifies (same key), the invoice is still paid, and the
    // retried request gets the same payment back.
    assert_eq!(h.get_invoice(&token).await.body["status"], "paid");
    let replay = h.pay(&token, Some("restart-key"), pay_1001()).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.body["id"], first_id);
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 1);
    h.sandbox.store.pool().close().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn reset_restores_the_seed() {
    let h = harness().await;
    let token = h.checkout_token("cus_acme", "inv_1001").await;
    h.pay(&token, Some("k"), pay_1001()).await;
    let reset = h.control("/sandbox/reset").await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get_invoice(&token).await.body["status"], "open");
    assert_eq!(h.sandbox.store.payment_count().await.unwrap(), 0);
}

#[tokio::test]
async fn t11_more_requests_than_the_rate_limit_get_429_with_retry_after() {
    let h = harness_with(Config::in_memory(), ManualClock::starting_at(NOW)).await;
    let auth = basic("demo_client_id", "demo_client_secret");
    for _ in 0..5 {
        let reply = h
            .token_request(Some(&auth), "grant_type=client_credentials")
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let limited = h
        .token_request(Some(&auth), "grant_type=client_credentials")
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers[header::RETRY_AFTER], "1");
    // A second later the client may go on.
    h.clock.advance(Duration::from_secs(1));
    let oauth = h.oauth_token().await;
    // Checkout calls are limited per checkout token, apart from the client's quota.
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    let token = reply.body["token"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        assert_eq!(h.get_invoice(&token).await.status, StatusCode::OK);
    }
    let limited = h.get_invoice(&token).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["code"], "rate_limited");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn oversized_headers_and_bodies_are_refused_before_anything_else() {
    let h = harness().await;
    let huge = "x".repeat(crate::limits::MAX_HEADER_BYTES);
    let reply = h
        .send(
            Request::get("/checkout/v1/invoice")
                .header("x-padding", huge)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let oauth = h.oauth_token().await;
    let body =
        json!({"customer_id": "cus_acme", "invoice_id": "x".repeat(crate::limits::MAX_BODY_BYTES)});
    let reply = h.init(&oauth, body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn injected_faults_answer_503_and_refuse_oauth_tokens() {
    let mut config = Config::unlimited_in_memory();
    config.faults.error_rate = 1.0;
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let reply = h.token_request(None, "grant_type=client_credentials").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    // The sandbox's own controls stay up.
    let stats = h
        .send(Request::get("/sandbox/stats").body(Body::empty()).unwrap())
        .await;
    assert_eq!(stats.status, StatusCode::OK);

    let mut config = Config::unlimited_in_memory();
    config.faults.oauth_revoke_rate = 1.0;
    let h = harness_with(config, ManualClock::starting_at(NOW)).await;
    let oauth = h.oauth_token().await;
    let reply = h
        .init(
            &oauth,
            json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "invalid_token");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let h = harness().await;
    let reply = h
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/oauth/token",
        "/v1/checkout-auth/init",
        "/checkout-auth/init",
        "/checkout/v1/invoice",
        "/checkout/v1/invoice/pdf-link",
        "/checkout/v1/payment-methods",
        "/checkout/v1/payments",
        "/files/invoices/{file}",
        "/.well-known/jwks.json",
        "/sandbox/stats",
        "/sandbox/rotate-keys",
        "/sandbox/reset",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let schemes = reply.body["components"]["securitySchemes"]
        .as_object()
        .unwrap();
    assert!(schemes.contains_key("checkout_bearer"));
    assert!(
        reply.body["components"]["schemas"]["InvoiceView"]["properties"]["invoice_number"]
            .is_object()
    );
}
