//! Records that heal without the page: the vendor's "already paid" read
//! and recorded on the spot, the catch-up on the vendor's event list (its
//! cursor, its restart, its fleet lease), and a payment of another amount
//! kept apart from "paid".

use super::*;

/// A second instance on the same database: no tokens of its own yet, so
/// its first mint asks the vendor.
async fn beside(first: &CheckoutService, url: &str) -> CheckoutService {
    let config = VendorConfig::new(
        url,
        "demo_client_id",
        ClientSecret::new("demo_client_secret"),
    );
    CheckoutService::new(VendorClient::new(config).unwrap(), first.records.clone())
}

/// Mints `invoice_id` for its owner and pays it at the vendor with that
/// token, as a payer's browser would; the merchant hears nothing of it.
async fn paid_behind_the_merchants_back(
    service: &CheckoutService,
    url: &str,
    invoice_id: &str,
    amount: &str,
) {
    let token = mint(service, invoice_id).await.unwrap().token;
    let method = if invoice_id.starts_with("inv_2") {
        "pm_globex_mc"
    } else {
        "pm_acme_visa"
    };
    let reply = reqwest::Client::new()
        .post(format!("{url}/checkout/v1/payments"))
        .bearer_auth(token.expose())
        .header("idempotency-key", format!("settling-{invoice_id}"))
        .json(&serde_json::json!({"payment_method_id": method, "amount": amount}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201, "{}", reply.text().await.unwrap());
}

async fn state_of(service: &CheckoutService, invoice_id: &str) -> PaymentState {
    service
        .records
        .invoice(invoice_id)
        .await
        .unwrap()
        .unwrap()
        .payment
}

#[tokio::test]
async fn the_vendors_already_paid_is_read_and_recorded_before_the_answer() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let first = service(&running.url, "demo_client_secret").await;
    paid_behind_the_merchants_back(&first, &running.url, "inv_1001", "1250.00").await;
    assert_eq!(state_of(&first, "inv_1001").await, PaymentState::Open);

    // The other instance asks the vendor, which answers 409.
    let second = beside(&first, &running.url).await;
    assert!(matches!(
        mint(&second, "inv_1001").await,
        Err(CheckoutError::Paid)
    ));
    assert!(matches!(
        state_of(&second, "inv_1001").await,
        PaymentState::Paid { .. }
    ));
    // Recorded: the next mint is refused without asking the vendor.
    let issued = running.sandbox.stats().checkout_tokens_issued;
    assert!(matches!(
        mint(&second, "inv_1001").await,
        Err(CheckoutError::Paid)
    ));
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, issued);
}

#[tokio::test]
async fn an_already_paid_of_another_amount_is_recorded_as_a_mismatch() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let first = service(&running.url, "demo_client_secret").await;
    // The vendor's invoice was paid 1,250.00; the merchant bills 1,300.00.
    paid_behind_the_merchants_back(&first, &running.url, "inv_1001", "1250.00").await;
    sqlx::query("UPDATE invoices SET total = '1300.00' WHERE id = 'inv_1001'")
        .execute(&first.records.pool)
        .await
        .unwrap();
    let second = beside(&first, &running.url).await;
    assert!(matches!(
        second.invoice(&user("cus_acme"), &id("inv_1001")).await,
        Err(CheckoutError::PaymentMismatch)
    ));
    assert!(matches!(
        state_of(&second, "inv_1001").await,
        PaymentState::Mismatch { amount, currency, .. } if amount == "1250.00" && currency == "USD"
    ));
    // No token for it, and no vendor call to find that out.
    let issued = running.sandbox.stats().checkout_tokens_issued;
    assert!(matches!(
        mint(&second, "inv_1001").await,
        Err(CheckoutError::PaymentMismatch)
    ));
    assert_eq!(running.sandbox.stats().checkout_tokens_issued, issued);
}

#[tokio::test]
async fn the_catch_up_records_what_the_webhook_missed_once_and_resumes_where_it_stopped() {
    // No webhook endpoint: the sandbox keeps every event pending.
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    paid_behind_the_merchants_back(&service, &running.url, "inv_1001", "1250.00").await;
    paid_behind_the_merchants_back(&service, &running.url, "inv_2001", "89.99").await;

    let caught = service.catch_up(1).await.unwrap();
    assert_eq!(caught, CaughtUp { read: 2, found: 2 });
    assert!(matches!(
        state_of(&service, "inv_1001").await,
        PaymentState::Paid { .. }
    ));
    assert!(matches!(
        state_of(&service, "inv_2001").await,
        PaymentState::Paid { .. }
    ));
    assert!(matches!(
        mint(&service, "inv_1001").await,
        Err(CheckoutError::Paid)
    ));

    // Nothing new: nothing read again, from this instance or a restarted one.
    assert_eq!(service.catch_up(2).await.unwrap(), CaughtUp::default());
    let restarted = beside(&service, &running.url).await;
    assert_eq!(restarted.catch_up(3).await.unwrap(), CaughtUp::default());
    paid_behind_the_merchants_back(&service, &running.url, "inv_1002", "310.40").await;
    assert_eq!(
        restarted.catch_up(4).await.unwrap(),
        CaughtUp { read: 1, found: 1 }
    );
    let recorded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM vendor_events WHERE via = 'catch_up' AND outcome = 'recorded'",
    )
    .fetch_one(&service.records.pool)
    .await
    .unwrap();
    assert_eq!(recorded, 3);
}

#[tokio::test]
async fn a_cursor_the_vendor_does_not_know_starts_the_list_over_and_records_nothing_twice() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    paid_behind_the_merchants_back(&service, &running.url, "inv_1001", "1250.00").await;
    // Recorded by the page's reconcile first.
    service
        .reconcile(&user("cus_acme"), &id("inv_1001"), 1)
        .await
        .unwrap();
    service
        .records
        .set_event_cursor(Some("evt_from_another_environment"), 1)
        .await
        .unwrap();
    let caught = service.catch_up(2).await.unwrap();
    assert_eq!(caught, CaughtUp { read: 1, found: 1 });
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM vendor_events")
        .fetch_one(&service.records.pool)
        .await
        .unwrap();
    assert_eq!(outcome, "already_recorded", "one payment row, as before");
}

#[tokio::test]
async fn in_a_fleet_one_instance_catches_up_at_a_time_and_without_redis_each_may() {
    let running = start_sandbox(Config::unlimited_in_memory()).await;
    let service = service(&running.url, "demo_client_secret").await;
    paid_behind_the_merchants_back(&service, &running.url, "inv_1001", "1250.00").await;
    let (url, prefix) = crate::fleet::test_redis();
    let redis = crate::fleet::FleetRedis::new(&url, &prefix).unwrap();
    let other = crate::fleet::FleetRedis::new(&url, &prefix).unwrap();

    let fleet_redis::Lease::Held(elsewhere) =
        other.lease("test", "events-catch-up", CATCH_UP_LEASE).await
    else {
        panic!("the lease is free");
    };
    assert_eq!(service.catch_up_once(Some(&redis)).await, Turn::Skipped);
    assert_eq!(state_of(&service, "inv_1001").await, PaymentState::Open);

    other.release("test", elsewhere).await;
    assert_eq!(
        service.catch_up_once(Some(&redis)).await,
        Turn::Ran(CaughtUp { read: 1, found: 1 })
    );
    // Given up at the end of the run: the next instance may run it.
    assert!(matches!(
        other.lease("test", "events-catch-up", CATCH_UP_LEASE).await,
        fleet_redis::Lease::Held(_)
    ));

    let unreachable = crate::fleet::FleetRedis::new("redis://127.0.0.1:1", "test:").unwrap();
    assert_eq!(
        service.catch_up_once(Some(&unreachable)).await,
        Turn::Ran(CaughtUp::default()),
        "Redis cannot say: it runs (recording is idempotent)"
    );
}
