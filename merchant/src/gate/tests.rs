//! The gate on the machine's Redis: each answer it can give, that it counts
//! what the limits count, and that it steps aside when it cannot say.

use std::time::Duration;

use alternative_client::{CheckoutToken, IssuedCheckoutToken};
use fleet_redis::{Lease, Lookup};

use super::*;
use crate::sessions::EndedSessions;

fn fleet() -> FleetRedis {
    let (url, prefix) = crate::fleet::test_redis();
    FleetRedis::new(&url, &prefix).unwrap()
}

/// The production limits, shared through `redis`.
fn limits(redis: &FleetRedis) -> Arc<Limits> {
    Arc::new(Limits::default().in_fleet(redis))
}

fn invoice() -> InvoiceId {
    InvoiceId::parse("inv_1001").unwrap()
}

fn ask<'a>(session: Id, invoice_id: &'a InvoiceId) -> Ask<'a> {
    Ask {
        session,
        session_key: "session:test",
        address_key: "addr:127.0.0.1",
        invoice_id,
    }
}

#[tokio::test]
async fn a_live_session_goes_through_with_the_fleets_token() {
    let redis = fleet();
    let gate = MintGate::in_fleet(redis.clone(), limits(&redis));
    let invoice_id = invoice();
    // No token yet: through, with nothing found.
    let Gate::Through(read) = gate.ask(&ask(Id::default(), &invoice_id)).await else {
        panic!("a live session with limits to spare goes through");
    };
    assert!(matches!(
        FleetTokens::from_read("cus_a", read),
        Lookup::Missing
    ));

    // One stored by an instance of the fleet: through, with it.
    let tokens = FleetTokens::new(redis.clone());
    let Lease::Held(holder) = tokens.lock("inv_1001").await else {
        panic!("the lease is free");
    };
    let issued = IssuedCheckoutToken {
        token: CheckoutToken::new("header.payload.sig".to_owned()),
        expires_in: Duration::from_secs(900),
        jti: Some("jti-1".to_owned()),
    };
    let floor = Duration::from_secs(400);
    tokens
        .store("cus_a", "inv_1001", &issued, floor, holder)
        .await;
    let Gate::Through(read) = gate.ask(&ask(Id::default(), &invoice_id)).await else {
        panic!("still through");
    };
    let Lookup::Found(found) = FleetTokens::from_read("cus_a", read) else {
        panic!("the stored token is found");
    };
    assert_eq!(found.issued.token.expose(), "header.payload.sig");
    assert_eq!(found.lifetime, Duration::from_secs(900));
    assert_eq!(found.reuse_floor, floor);
    // The floor was left to hand it out in, and the rest of the key's time
    // (900 - 400 s when stored).
    assert!(found.issued.expires_in > Duration::from_secs(890));
    assert!(found.issued.expires_in <= Duration::from_secs(900));
    // Another customer's read of the same invoice finds nothing.
    let Gate::Through(read) = gate.ask(&ask(Id::default(), &invoice_id)).await else {
        panic!("still through");
    };
    assert!(matches!(
        FleetTokens::from_read("cus_b", read),
        Lookup::Missing
    ));
}

#[tokio::test]
async fn an_ended_session_is_said_and_counts_against_nothing() {
    let redis = fleet();
    let limits = limits(&redis);
    let gate = MintGate::in_fleet(redis.clone(), limits.clone());
    let (ended, invoice_id) = (Id::default(), invoice());
    assert!(EndedSessions::new(redis.clone()).end(&ended).await);
    for _ in 0..30 {
        assert!(matches!(
            gate.ask(&ask(ended, &invoice_id)).await,
            Gate::Ended
        ));
    }
    // Thirty asks counted nothing: the session's whole burst (20) is left.
    for _ in 0..20 {
        assert_eq!(
            limits.vendor_per_session.check("session:test").await,
            Ok(())
        );
    }
}

#[tokio::test]
async fn the_limits_count_as_the_limiters_do() {
    let redis = fleet();
    let limits = limits(&redis);
    let gate = MintGate::in_fleet(redis.clone(), limits.clone());
    let invoice_id = invoice();
    // The per-session limit's burst is 20: ten through the gate, ten
    // through the limiter itself, and the next is refused by either.
    for _ in 0..10 {
        let answer = gate.ask(&ask(Id::default(), &invoice_id)).await;
        assert!(matches!(answer, Gate::Through(_)), "{answer:?}");
    }
    for _ in 0..10 {
        assert_eq!(
            limits.vendor_per_session.check("session:test").await,
            Ok(())
        );
    }
    match gate.ask(&ask(Id::default(), &invoice_id)).await {
        // 60 a minute: the next fits within a second.
        Gate::Limited(wait) => assert!(wait <= Duration::from_secs(1), "{wait:?}"),
        other => panic!("the 21st call is refused, not {other:?}"),
    }
    assert!(limits
        .vendor_per_session
        .check("session:test")
        .await
        .is_err());
    // The per-address limit counted the gate's calls too (60 at once): ten
    // of them, and the refused one, which the session refused first, not.
    for _ in 0..50 {
        assert_eq!(
            limits.vendor_per_address.check("addr:127.0.0.1").await,
            Ok(())
        );
    }
    assert!(limits
        .vendor_per_address
        .check("addr:127.0.0.1")
        .await
        .is_err());
}

#[tokio::test]
async fn with_no_fleet_or_no_redis_each_part_asks_on_its_own() {
    let invoice_id = invoice();
    let alone = MintGate::alone(Arc::new(Limits::default()));
    assert!(matches!(
        alone.ask(&ask(Id::default(), &invoice_id)).await,
        Gate::AskEach
    ));
    // Nothing listens on port 1.
    let away = FleetRedis::new("redis://127.0.0.1:1", "test:away:").unwrap();
    let gate = MintGate::in_fleet(away.clone(), limits(&away));
    assert!(matches!(
        gate.ask(&ask(Id::default(), &invoice_id)).await,
        Gate::AskEach
    ));
}
