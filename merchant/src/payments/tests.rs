//! One row per paid invoice and one per event id, whatever the order and
//! the repeats; what cannot be applied is kept and said, never lost.

use alternative_client::webhook::{Event, Payload, Payment};

use super::*;

async fn records() -> (crate::db::Database, Records) {
    let db = crate::db::open_with_demo(&crate::db::scratch_url().await)
        .await
        .unwrap();
    let records = Records::new(db.pool().clone());
    (db, records)
}

fn payment(id: &str, invoice_id: &str) -> Payment {
    Payment {
        payment_id: id.into(),
        invoice_id: invoice_id.into(),
        amount: "1250.00".into(),
        currency: "USD".into(),
    }
}

fn paid(event_id: &str, payment: Payment) -> Event {
    Event {
        id: event_id.into(),
        kind: "payment.succeeded".into(),
        created_at: "2027-01-15T08:00:00Z".into(),
        payload: Payload::PaymentSucceeded(payment),
    }
}

async fn outcome_of(records: &Records, event_id: &str) -> String {
    sqlx::query_scalar("SELECT outcome FROM vendor_events WHERE id = $1")
        .bind(event_id)
        .fetch_one(&records.pool)
        .await
        .unwrap()
}

async fn payment_rows(records: &Records) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM payments")
        .fetch_one(&records.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_event_marks_its_invoice_paid_once_and_a_repeat_changes_nothing() {
    let (_db, records) = records().await;
    let event = paid("evt_1", payment("pay_1", "inv_1001"));
    assert_eq!(
        records
            .record_event(&event, "{}", 10, Via::Webhook)
            .await
            .unwrap(),
        Recorded::Paid
    );
    assert_eq!(
        records.paid_by("inv_1001").await.unwrap().as_deref(),
        Some("pay_1")
    );
    assert_eq!(
        records.invoice("inv_1001").await.unwrap().unwrap().payment,
        crate::PaymentState::Paid {
            payment_id: "pay_1".into()
        }
    );
    assert_eq!(
        records
            .record_event(&event, "{}", 11, Via::Webhook)
            .await
            .unwrap(),
        Recorded::DuplicateEvent
    );
    assert_eq!(outcome_of(&records, "evt_1").await, "recorded");
    assert_eq!(payment_rows(&records).await, 1);
}

#[tokio::test]
async fn a_reconciled_payment_and_its_later_event_end_in_one_record() {
    let (_db, records) = records().await;
    assert_eq!(
        records
            .record_payment(&payment("pay_1", "inv_1001"), 10)
            .await
            .unwrap(),
        Recorded::Paid
    );
    let event = paid("evt_1", payment("pay_1", "inv_1001"));
    assert_eq!(
        records
            .record_event(&event, "{}", 20, Via::Webhook)
            .await
            .unwrap(),
        Recorded::AlreadyRecorded
    );
    assert_eq!(
        records
            .record_payment(&payment("pay_1", "inv_1001"), 30)
            .await
            .unwrap(),
        Recorded::AlreadyRecorded
    );
    assert_eq!(payment_rows(&records).await, 1);
    let source: String = sqlx::query_scalar("SELECT source FROM payments")
        .fetch_one(&records.pool)
        .await
        .unwrap();
    assert_eq!(source, "reconcile");
}

#[tokio::test]
async fn an_event_for_an_unknown_invoice_or_of_an_unknown_type_is_kept_and_pays_nothing() {
    let (_db, records) = records().await;
    let stray = paid("evt_1", payment("pay_1", "inv_elsewhere"));
    assert_eq!(
        records
            .record_event(&stray, "{\"a\":1}", 10, Via::Webhook)
            .await
            .unwrap(),
        Recorded::UnknownInvoice
    );
    assert_eq!(outcome_of(&records, "evt_1").await, "unknown_invoice");
    let unknown = Event {
        id: "evt_2".into(),
        kind: "invoice.voided".into(),
        created_at: "x".into(),
        payload: Payload::Unknown,
    };
    assert_eq!(
        records
            .record_event(&unknown, "{}", 11, Via::Webhook)
            .await
            .unwrap(),
        Recorded::Ignored
    );
    assert_eq!(outcome_of(&records, "evt_2").await, "ignored");
    assert_eq!(payment_rows(&records).await, 0);
    let body: String = sqlx::query_scalar("SELECT body FROM vendor_events WHERE id = 'evt_1'")
        .fetch_one(&records.pool)
        .await
        .unwrap();
    assert_eq!(body, "{\"a\":1}", "the body is kept as received");
}

#[tokio::test]
async fn a_second_payment_for_a_paid_invoice_is_a_conflict_and_the_first_stays() {
    let (_db, records) = records().await;
    records
        .record_event(
            &paid("evt_1", payment("pay_1", "inv_1001")),
            "{}",
            10,
            Via::Webhook,
        )
        .await
        .unwrap();
    let other = paid("evt_2", payment("pay_2", "inv_1001"));
    assert_eq!(
        records
            .record_event(&other, "{}", 11, Via::Webhook)
            .await
            .unwrap(),
        Recorded::Conflict
    );
    assert_eq!(
        records.paid_by("inv_1001").await.unwrap().as_deref(),
        Some("pay_1")
    );
    assert_eq!(outcome_of(&records, "evt_2").await, "conflict");
}

/// Found by reading: a payment of another amount was recorded as paid in
/// full, with a warning.
#[tokio::test]
async fn a_payment_of_another_amount_or_currency_is_a_mismatch_not_paid() {
    let (_db, records) = records().await;
    let short = Payment {
        amount: "1200.00".into(),
        ..payment("pay_1", "inv_1001")
    };
    assert_eq!(
        records
            .record_event(&paid("evt_1", short), "{}", 10, Via::Webhook)
            .await
            .unwrap(),
        Recorded::Mismatch
    );
    assert_eq!(outcome_of(&records, "evt_1").await, "mismatch");
    assert_eq!(
        records.invoice("inv_1001").await.unwrap().unwrap().payment,
        crate::PaymentState::Mismatch {
            payment_id: "pay_1".into(),
            amount: "1200.00".into(),
            currency: "USD".into(),
        }
    );
    let euros = Payment {
        amount: "310.40".into(),
        currency: "EUR".into(),
        ..payment("pay_2", "inv_1002")
    };
    assert_eq!(
        records.record_payment(&euros, 11).await.unwrap(),
        Recorded::Mismatch
    );
    // Its repeat changes nothing; the same amount written otherwise matches.
    assert_eq!(
        records.record_payment(&euros, 12).await.unwrap(),
        Recorded::AlreadyRecorded
    );
    let spelled_otherwise = Payment {
        amount: "1250".into(),
        ..payment("pay_3", "inv_1001")
    };
    assert_eq!(
        records
            .record_payment(&spelled_otherwise, 13)
            .await
            .unwrap(),
        Recorded::Conflict,
        "inv_1001 holds pay_1 already"
    );
}

#[tokio::test]
async fn a_genuine_event_that_cannot_be_read_is_kept_and_records_nothing() {
    let (_db, records) = records().await;
    let garbled = Event {
        id: "evt_1".into(),
        kind: "payment.succeeded".into(),
        created_at: "x".into(),
        payload: Payload::Malformed("a payment's currency is three capital letters"),
    };
    let body = r#"{"id":"evt_1","data":{"payment":{"currency":"u\u0000s"}}}"#;
    assert_eq!(
        records
            .record_event(&garbled, body, 10, Via::CatchUp)
            .await
            .unwrap(),
        Recorded::Malformed
    );
    assert_eq!(outcome_of(&records, "evt_1").await, "malformed");
    assert_eq!(payment_rows(&records).await, 0);
}

#[tokio::test]
async fn the_catch_ups_cursor_is_kept_moved_and_forgotten() {
    let (_db, records) = records().await;
    assert_eq!(records.event_cursor().await.unwrap(), None);
    records.set_event_cursor(Some("evt_1"), 10).await.unwrap();
    records.set_event_cursor(Some("evt_9"), 11).await.unwrap();
    assert_eq!(
        records.event_cursor().await.unwrap().as_deref(),
        Some("evt_9")
    );
    records.set_event_cursor(None, 12).await.unwrap();
    assert_eq!(records.event_cursor().await.unwrap(), None);
    records.set_event_cursor(Some("evt_3"), 13).await.unwrap();
    records.forget_payments().await.unwrap();
    assert_eq!(records.event_cursor().await.unwrap(), None);
}
