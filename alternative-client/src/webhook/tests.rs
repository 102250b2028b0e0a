//! Each refusal of [`verify_event`], and agreement with the sandbox's own
//! signer (written apart, as the vendor's code would be).

use super::*;

const SECRET: &str = "whsec_test_0123456789abcdef";
const NOW: u64 = 1_800_000_000;
const BODY: &str = r#"{"id":"evt_1","type":"payment.succeeded","created_at":"2027-01-15T08:00:00Z","data":{"payment":{"id":"pay_1","invoice_id":"inv_1001","payment_method_id":"pm_acme_visa","amount":"1250.00","currency":"USD","status":"succeeded","created_at":"2027-01-15T08:00:00Z"},"invoice":{"id":"inv_1001","customer_id":"cus_acme","status":"paid"}}}"#;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn secrets() -> WebhookSecrets {
    WebhookSecrets::parse(SECRET).unwrap()
}

fn verify(signature: Option<&str>, body: &str) -> Result<Event, WebhookError> {
    verify_event(
        &secrets(),
        signature,
        body.as_bytes(),
        at(NOW),
        DEFAULT_TOLERANCE,
    )
}

#[test]
fn a_genuine_delivery_is_read() {
    let event = verify(Some(&sign_for_tests(SECRET, NOW, BODY.as_bytes())), BODY).unwrap();
    assert_eq!(event.id, "evt_1");
    assert_eq!(event.kind, PAYMENT_SUCCEEDED);
    assert_eq!(
        event.payload,
        Payload::PaymentSucceeded(Payment {
            payment_id: "pay_1".into(),
            invoice_id: "inv_1001".into(),
            amount: "1250.00".into(),
            currency: "USD".into(),
        })
    );
}

#[test]
fn the_sandboxs_signature_verifies_with_either_secret_of_a_rotation() {
    let old = "whsec_old_0123456789abcdef";
    let new = "whsec_new_0123456789abcdef";
    let signer = |s: &str| sandbox::WebhookSecret::parse(s).unwrap();
    let header = sandbox::signature_header(&[signer(old), signer(new)], NOW, BODY.as_bytes());
    for secret in [old, new, &format!("{old},{new}")] {
        let secrets = WebhookSecrets::parse(secret).unwrap();
        assert!(verify_event(
            &secrets,
            Some(&header),
            BODY.as_bytes(),
            at(NOW),
            DEFAULT_TOLERANCE
        )
        .is_ok());
    }
}

#[test]
fn an_altered_body_or_another_secret_is_a_bad_signature() {
    let header = sign_for_tests(SECRET, NOW, BODY.as_bytes());
    assert_eq!(
        verify(Some(&header), &BODY.replace("1250.00", "1.00")),
        Err(WebhookError::BadSignature)
    );
    let forged = sign_for_tests("whsec_someone_else_0123456", NOW, BODY.as_bytes());
    assert_eq!(verify(Some(&forged), BODY), Err(WebhookError::BadSignature));
    // The timestamp is signed too: moving it breaks the signature.
    let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
    assert_eq!(verify(Some(&moved), BODY), Err(WebhookError::BadSignature));
}

#[test]
fn a_timestamp_outside_the_tolerance_is_stale_either_way() {
    for signed_at in [NOW - 301, NOW + 301, 0] {
        let header = sign_for_tests(SECRET, signed_at, BODY.as_bytes());
        assert_eq!(
            verify(Some(&header), BODY),
            Err(WebhookError::Stale),
            "{signed_at}"
        );
    }
    for signed_at in [NOW - 300, NOW + 300] {
        assert!(verify(
            Some(&sign_for_tests(SECRET, signed_at, BODY.as_bytes())),
            BODY
        )
        .is_ok());
    }
}

#[test]
fn a_missing_or_malformed_header_is_refused_as_such() {
    assert_eq!(verify(None, BODY), Err(WebhookError::MissingSignature));
    let good = sign_for_tests(SECRET, NOW, BODY.as_bytes());
    let v1 = good.split_once(",v1=").unwrap().1;
    for header in [
        "".to_owned(),
        "garbage".to_owned(),
        format!("v1={v1}"),
        format!("t={NOW}"),
        format!("t=,v1={v1}"),
        format!("t=-5,v1={v1}"),
        format!("t={NOW},t={NOW},v1={v1}"),
        format!("t={NOW},v1=zz"),
        format!("t={NOW},v1={}", &v1[..62]),
        format!("t={NOW},v1={v1}é"),
    ] {
        assert_eq!(
            verify(Some(&header), BODY),
            Err(WebhookError::MalformedSignature),
            "{header:?}"
        );
    }
    // Unknown schemes beside a good v1 are skipped.
    assert!(verify(Some(&format!("t={NOW},v0=abc,v1={v1}")), BODY).is_ok());
}

#[test]
fn a_body_over_the_cap_is_refused_before_any_work() {
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_EVENT_BYTES));
    let header = sign_for_tests(SECRET, NOW, big.as_bytes());
    assert_eq!(verify(Some(&header), &big), Err(WebhookError::TooLarge));
}

#[test]
fn a_genuine_body_of_the_wrong_shape_is_malformed_and_an_unknown_type_is_kept_unread() {
    for body in [
        "[]",
        "{}",
        r#"{"id":"","type":"x","created_at":"x","data":{}}"#,
    ] {
        let header = sign_for_tests(SECRET, NOW, body.as_bytes());
        assert!(
            matches!(verify(Some(&header), body), Err(WebhookError::Malformed(_))),
            "{body}"
        );
    }
    let body = r#"{"id":"evt_2","type":"invoice.voided","created_at":"x","data":{"anything":1}}"#;
    let event = verify(Some(&sign_for_tests(SECRET, NOW, body.as_bytes())), body).unwrap();
    assert_eq!(
        (event.kind.as_str(), event.payload),
        ("invoice.voided", Payload::Unknown)
    );
}

#[test]
fn a_genuine_payment_event_off_its_shape_is_kept_as_malformed_never_as_a_payment() {
    let payment = |field: &str, value: &str| {
        let mut payment = serde_json::json!({
            "id": "pay_1", "invoice_id": "inv_1", "amount": "12.50", "currency": "USD"
        });
        payment[field] = value.into();
        serde_json::json!({
            "id": "evt_1", "type": "payment.succeeded", "created_at": "x",
            "data": {"payment": payment}
        })
        .to_string()
    };
    let well_formed = payment("amount", "12.50");
    let event = verify(
        Some(&sign_for_tests(SECRET, NOW, well_formed.as_bytes())),
        &well_formed,
    )
    .unwrap();
    assert!(matches!(event.payload, Payload::PaymentSucceeded(_)));
    // A NUL, a newline, an amount or currency of another shape: each one a
    // row PostgreSQL refuses for ever, or a lie in the records.
    let mut bodies: Vec<String> = [
        ("id", "pay\0x"),
        ("invoice_id", "inv_1\n"),
        ("amount", "12.5.0"),
        ("amount", "-3"),
        ("amount", "1.005"),
        ("currency", "usd"),
    ]
    .iter()
    .map(|(field, value)| payment(field, value))
    .collect();
    bodies
        .push(r#"{"id":"evt_1","type":"payment.succeeded","created_at":"x","data":{}}"#.to_owned());
    for body in bodies {
        let header = sign_for_tests(SECRET, NOW, body.as_bytes());
        let event = verify(Some(&header), &body).unwrap();
        assert!(matches!(event.payload, Payload::Malformed(_)), "{body}");
        // Read from the vendor's list, the same.
        let listed = read_listed_event(body.as_bytes()).unwrap();
        assert_eq!(listed, event);
    }
}

#[test]
fn secrets_are_checked_and_never_printed() {
    assert!(WebhookSecrets::parse("").is_err());
    assert!(WebhookSecrets::parse("letmein").is_err());
    assert!(WebhookSecrets::parse("whsec_short").is_err());
    let two = WebhookSecrets::parse(" whsec_0123456789abcdef , whsec_fedcba9876543210 ").unwrap();
    assert_eq!(format!("{two:?}"), "WebhookSecrets(2 redacted)");
}

#[test]
fn amounts_compare_as_amounts() {
    assert!(same_amount("12.5", "12.50"));
    assert!(same_amount("7", "7.00"));
    assert!(!same_amount("12.5", "12.05"));
    let payment = Payment {
        payment_id: "pay_1".into(),
        invoice_id: "inv_1".into(),
        amount: "12.5".into(),
        currency: "USD".into(),
    };
    assert!(payment.pays("12.50", "USD"));
    assert!(!payment.pays("12.50", "EUR"));
}
