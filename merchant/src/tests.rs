//! The merchant side against the real sandbox, over a socket on port 0.

use std::time::Duration;

use sandbox::{Config, Sandbox, SystemClock};

use alternative_client::{ClientSecret, VendorClient, VendorConfig};

use crate::{
    CaughtUp, CheckoutError, CheckoutService, PaymentState, Records, Turn, User, CATCH_UP_LEASE,
};

mod settling;

fn user(customer_id: &str) -> User {
    User {
        id: 1,
        email: "someone@example.com".into(),
        name: "Someone".into(),
        customer_id: customer_id.into(),
    }
}

fn id(invoice_id: &str) -> crate::InvoiceId {
    crate::InvoiceId::parse(invoice_id).unwrap()
}

/// Mints as the owner the demo records give each invoice.
async fn mint(
    service: &CheckoutService,
    invoice_id: &str,
) -> Result<alternative_client::IssuedCheckoutToken, CheckoutError> {
    let customer = if invoice_id.starts_with("inv_2") {
        "cus_globex"
    } else {
        "cus_acme"
    };
    service.mint(&user(customer), &id(invoice_id)).await
}

struct Running {
    sandbox: Sandbox,
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start_sandbox(config: Config) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::open(config, SystemClock).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sandbox.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        sandbox,
        url,
        _stop: stop,
    }
}

async fn service(url: &str, secret: &str) -> CheckoutService {
    service_with(VendorConfig::new(
        url,
        "demo_client_id",
        ClientSecret::new(secret),
    ))
    .await
}

async fn service_with(config: VendorConfig) -> CheckoutService {
    let records = Records::new(
        crate::db::open_with_demo(&crate::db::scratch_url().await)
            .await
            .unwrap()
            .pool()
            .clone(),
    );
    CheckoutService::new(VendorClient::new(config).unwrap(), records)
}

#[tokio::test]
async fn mints_a_token_for_a_known_invoice_with_one_oauth_call() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let first = mint(&service, "inv_1001").await.unwrap();
    let second = mint(&service, "inv_2001").await.unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(service.api_url(), running.url);
    // The sandbox's lifetime is 900 s; a moment has passed since.
    assert!(first.expires_in <= Duration::from_secs(900));
    assert!(first.expires_in >= Duration::from_secs(890));
    let stats = running.sandbox.stats();
    assert_eq!(stats.oauth_tokens_issued, 1);
    assert_eq!(stats.checkout_tokens_issued, 2);
}

#[tokio::test]
async fn an_unknown_invoice_is_refused_before_the_vendor_is_asked() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    assert!(matches!(
        mint(&service, "inv_9999").await,
        Err(CheckoutError::UnknownInvoice)
    ));
    assert_eq!(running.sandbox.stats().oauth_tokens_issued, 0);
}

#[tokio::test]
async fn wrong_credentials_are_a_refusal_not_an_outage() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "not-the-secret").await;
    let err = mint(&service, "inv_1001").await.unwrap_err();
    assert!(matches!(err, CheckoutError::Refused(_)), "{err:?}");
    // The error names no credential.
    assert!(!format!("{err:?} {err}").contains("not-the-secret"));
}

#[tokio::test]
async fn s6_a_thousand_concurrent_mints_make_one_oauth_request_and_one_vendor_call_per_invoice() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let service = std::sync::Arc::new(service(&running.url, "demo_client_secret").await);
    let invoices = ["inv_1001", "inv_1002", "inv_2001"];
    let mints = (0..1000).map(|i| {
        let service = service.clone();
        tokio::spawn(async move { mint(&service, invoices[i % 3]).await })
    });
    for mint in futures::future::join_all(mints).await {
        mint.unwrap().unwrap();
    }
    let stats = running.sandbox.stats();
    assert_eq!(stats.oauth_tokens_issued, 1);
    // Concurrent mints of one invoice share one vendor call. (One OAuth
    // request at expiry too: alternative-client's own S6 test.)
    assert_eq!(stats.checkout_tokens_issued, 3);
}

#[tokio::test]
async fn a_token_with_most_of_its_life_left_is_reused_with_its_remaining_lifetime() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let first = mint(&service, "inv_1001").await.unwrap();
    let again = mint(&service, "inv_1001").await.unwrap();
    assert_eq!(first.token, again.token);
    assert!(again.expires_in <= first.expires_in);
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 1);
}

/// A checkout token's `jti`, read from its payload as the page reads it.
fn jti(token: &alternative_client::CheckoutToken) -> String {
    use base64::Engine;
    let payload = token.expose().split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_the_vendor_refused_is_not_handed_out_again_but_a_newer_one_is() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let alice = user("cus_acme");
    let first = mint(&service, "inv_1001").await.unwrap();
    // Another customer's report, or another token's id, changes nothing.
    service
        .forget_refused(&user("cus_globex"), &id("inv_1001"), &jti(&first.token))
        .await;
    service
        .forget_refused(&alice, &id("inv_1001"), "ct_some_other_token")
        .await;
    assert_eq!(mint(&service, "inv_1001").await.unwrap().token, first.token);
    // Its own id: the next mint asks the vendor.
    service
        .forget_refused(&alice, &id("inv_1001"), &jti(&first.token))
        .await;
    let second = mint(&service, "inv_1001").await.unwrap();
    assert_ne!(second.token, first.token);
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 2);
    // A late report of the first (another tab's) keeps the newer token.
    service
        .forget_refused(&alice, &id("inv_1001"), &jti(&first.token))
        .await;
    assert_eq!(
        mint(&service, "inv_1001").await.unwrap().token,
        second.token
    );
}

#[tokio::test]
async fn a_reused_token_needs_no_database_read_and_only_its_customer_gets_it() {
    let running = start_sandbox(Config::in_memory()).await;
    let db = crate::db::open_with_demo(&crate::db::scratch_url().await)
        .await
        .unwrap();
    let pool = db.pool().clone();
    let service = CheckoutService::new(
        VendorClient::new(VendorConfig::new(
            &running.url,
            "demo_client_id",
            ClientSecret::new("demo_client_secret"),
        ))
        .unwrap(),
        Records::new(pool.clone()),
    );
    let first = mint(&service, "inv_1001").await.unwrap();
    // Another customer naming the same invoice is still checked, and refused.
    assert!(matches!(
        service.mint(&user("cus_globex"), &id("inv_1001")).await,
        Err(CheckoutError::UnknownInvoice)
    ));

    pool.close().await;
    let again = mint(&service, "inv_1001").await.unwrap();
    assert_eq!(again.token, first.token);
    // A mint that does need the records finds the database gone.
    assert!(matches!(
        mint(&service, "inv_1002").await,
        Err(CheckoutError::Storage)
    ));
}

#[tokio::test]
async fn s7_another_users_invoice_is_refused_before_the_vendor_is_asked() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let bob = user("cus_globex");
    assert!(matches!(
        service.mint(&bob, &id("inv_1001")).await,
        Err(CheckoutError::UnknownInvoice)
    ));
    assert_eq!(running.sandbox.stats().oauth_tokens_issued, 0);
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 0);
    let invoices = service.invoices_of(&bob).await.unwrap();
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].invoice_number, "INV-2001");
}

#[tokio::test]
async fn the_server_reads_the_invoice_with_the_pages_token_and_no_extra_mint() {
    let running = start_sandbox(Config::in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let invoice = service
        .invoice(&user("cus_acme"), &id("inv_1002"))
        .await
        .unwrap();
    assert_eq!(invoice.invoice_number, "INV-1002");
    assert_eq!(invoice.total, "310.40");
    assert_eq!(invoice.status, "open");
    // The page's mint then reuses that token.
    mint(&service, "inv_1002").await.unwrap();
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 1);
}

/// Pays `invoice_id` at the vendor with the page's token, as the browser would.
async fn pay_at_vendor(url: &str, token: &alternative_client::CheckoutToken) -> serde_json::Value {
    let client = reqwest::Client::new();
    let reply = client
        .post(format!("{url}/checkout/v1/payments"))
        .bearer_auth(token.expose())
        .header("idempotency-key", "merchant-test")
        .json(&serde_json::json!({"payment_method_id": "pm_acme_visa", "amount": "1250.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    reply.json().await.unwrap()
}

#[tokio::test]
async fn reconciling_after_pay_records_the_vendors_payment_and_no_token_is_minted_again() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    let alice = user("cus_acme");
    assert_eq!(
        service.reconcile(&alice, &id("inv_1001"), 1).await.unwrap(),
        PaymentState::Open
    );
    let minted = mint(&service, "inv_1001").await.unwrap();
    let payment = pay_at_vendor(&running.url, &minted.token).await;

    assert!(matches!(
        service.reconcile(&alice, &id("inv_1001"), 2).await.unwrap(),
        PaymentState::Paid { .. }
    ));
    let issued = running.sandbox.stats().checkout_tokens_issued;
    // Not even the token still in its slot is handed out again.
    assert!(matches!(
        mint(&service, "inv_1001").await,
        Err(CheckoutError::Paid)
    ));
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, issued);
    let listed = service.invoices_of(&alice).await.unwrap();
    let paid = listed.iter().find(|i| i.invoice_id == "inv_1001").unwrap();
    assert_eq!(
        paid.payment,
        PaymentState::Paid {
            payment_id: payment["id"].as_str().unwrap().to_owned()
        }
    );
    // Someone else's invoice is not theirs to reconcile.
    assert!(matches!(
        service
            .reconcile(&user("cus_globex"), &id("inv_1001"), 3)
            .await,
        Err(CheckoutError::UnknownInvoice)
    ));
}

#[tokio::test]
async fn a_payment_event_ends_the_reuse_of_that_invoices_token() {
    use alternative_client::webhook::{Event, Payload, Payment};
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    mint(&service, "inv_1001").await.unwrap();
    let event = Event {
        id: "evt_1".into(),
        kind: "payment.succeeded".into(),
        created_at: "2027-01-15T08:00:00Z".into(),
        payload: Payload::PaymentSucceeded(Payment {
            payment_id: "pay_1".into(),
            invoice_id: "inv_1001".into(),
            amount: "1250.00".into(),
            currency: "USD".into(),
        }),
    };
    assert_eq!(
        service.receive_event(&event, "{}", 1).await.unwrap(),
        crate::Recorded::Paid
    );
    assert!(matches!(
        mint(&service, "inv_1001").await,
        Err(CheckoutError::Paid)
    ));
    // Another invoice of the same customer is untouched.
    assert!(mint(&service, "inv_1002").await.is_ok());
}

/// Two instances of a fleet: one database (kept open by the first value),
/// one Redis (keys of this test's own), one vendor.
async fn fleet(url: &str) -> (crate::db::Database, [CheckoutService; 2]) {
    let (redis_url, prefix) = crate::fleet::test_redis();
    let redis = crate::fleet::FleetRedis::new(&redis_url, &prefix).unwrap();
    let db = crate::db::open_with_demo(&crate::db::scratch_url().await)
        .await
        .unwrap();
    let fleet = std::array::from_fn(|_| {
        let config = VendorConfig::new(
            url,
            "demo_client_id",
            ClientSecret::new("demo_client_secret"),
        );
        CheckoutService::new(
            VendorClient::new(config).unwrap(),
            Records::new(db.pool().clone()),
        )
        .in_fleet(&redis)
    });
    (db, fleet)
}

#[tokio::test]
async fn a_fleet_mints_one_token_per_invoice_and_forgets_it_everywhere_once_paid() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let (_db, fleet) = fleet(&running.url).await;
    // Ten mints of one invoice at once, over both instances: one vendor call.
    let mints = futures::future::join_all((0..10).map(|n| mint(&fleet[n % 2], "inv_1001"))).await;
    let tokens: std::collections::HashSet<String> = mints
        .into_iter()
        .map(|minted| minted.unwrap().token.expose().to_owned())
        .collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 1);

    // Paid, and recorded by the first instance: the second, which holds the
    // token too, hands it out no more.
    let token = mint(&fleet[1], "inv_1001").await.unwrap().token;
    pay_at_vendor(&running.url, &token).await;
    let alice = user("cus_acme");
    assert!(matches!(
        fleet[0]
            .reconcile(&alice, &id("inv_1001"), 1)
            .await
            .unwrap(),
        PaymentState::Paid { .. }
    ));
    assert!(matches!(
        mint(&fleet[1], "inv_1001").await,
        Err(CheckoutError::Paid)
    ));
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, 1);
}
