//! `GET /v1/events` as a partner catching up reads it: oldest first from a
//! cursor (`order=oldest_first`, `after`, `limit`), every event once and in
//! the order it was recorded, only its own, with this API's own 400 for
//! every malformed parameter and 404 for a cursor it does not know.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};

use super::{harness, Harness, Reply, NOW};
use crate::events::PAYMENT_SUCCEEDED;
use crate::ids::random_id;
use crate::records::NewEvent;

const OTHER_PARTNER: &str = "partner_other";

impl Harness {
    /// Records `n` events of `partner`, as a payment records its event, all
    /// in the same second (so only the order of recording tells them apart),
    /// with random ids (so their order is not the ids' either); their ids.
    async fn record_events(&self, partner: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let id = random_id("evt_", 12);
            let body = json!({"id": id, "type": PAYMENT_SUCCEEDED, "data": {}});
            let event = NewEvent {
                id: id.clone(),
                partner_id: partner.to_owned(),
                kind: PAYMENT_SUCCEEDED,
                body: body.to_string(),
                created_at: NOW,
            };
            self.sandbox.store.insert_event(&event).await.unwrap();
            ids.push(id);
        }
        ids
    }

    async fn list_events(&self, oauth: &str, query: &str) -> Reply {
        self.get(&format!("/v1/events{query}"), oauth).await
    }

    /// One page's ids, which must be a 200.
    async fn page_ids(&self, oauth: &str, query: &str) -> Vec<String> {
        let reply = self.list_events(oauth, query).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.body);
        ids(&reply.body)
    }

    /// Pages as the merchant's client does, from `after` (from the start
    /// without one) until a page is shorter than `limit`: every id read, and
    /// how many pages it took.
    async fn catch_up(&self, oauth: &str, mut after: Option<String>) -> (Vec<String>, usize) {
        let (mut read, mut pages) = (Vec::new(), 0);
        loop {
            let query = match &after {
                None => "?order=oldest_first&limit=100".to_owned(),
                Some(last) => format!("?order=oldest_first&after={last}&limit=100"),
            };
            let page = self.page_ids(oauth, &query).await;
            pages += 1;
            let last_page = page.len() < 100;
            after = page.last().cloned().or(after);
            read.extend(page);
            if last_page {
                return (read, pages);
            }
        }
    }
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("a JSON array")
        .iter()
        .map(|event| event["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_from_the_start_reads_every_event_once_in_the_order_recorded() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let recorded = h.record_events("partner_demo", 250).await;

    let (read, pages) = h.catch_up(&oauth, None).await;
    assert_eq!(pages, 3, "100, 100, then 50: the short page is the last");
    assert_eq!(read, recorded);
    // Read to the end, a page after the last event is empty.
    let after_last = format!("?order=oldest_first&after={}", recorded[249]);
    assert_eq!(h.page_ids(&oauth, &after_last).await, Vec::<String>::new());
}

#[tokio::test]
async fn events_recorded_while_a_partner_pages_are_on_its_next_pages() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let mut recorded = h.record_events("partner_demo", 150).await;

    let first = h.page_ids(&oauth, "?order=oldest_first&limit=100").await;
    assert_eq!(first, recorded[..100]);
    // Recorded between two pages: after everything the partner has not read.
    recorded.extend(h.record_events("partner_demo", 5).await);
    let (rest, _) = h.catch_up(&oauth, first.last().cloned()).await;
    assert_eq!(rest, recorded[100..]);

    // Recorded after the partner read to the end: the next call from its
    // last event finds them, and only them.
    let newer = h.record_events("partner_demo", 3).await;
    let (caught_up, pages) = h.catch_up(&oauth, rest.last().cloned()).await;
    assert_eq!((caught_up, pages), (newer, 1));
}

#[tokio::test]
async fn a_limit_smaller_than_a_page_pages_just_as_well() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let recorded = h.record_events("partner_demo", 7).await;
    let mut read = h.page_ids(&oauth, "?order=oldest_first&limit=3").await;
    while read.len() < recorded.len() {
        let query = format!("?order=oldest_first&after={}&limit=3", read.last().unwrap());
        let page = h.page_ids(&oauth, &query).await;
        assert!(!page.is_empty() && page.len() <= 3, "{page:?}");
        read.extend(page);
    }
    assert_eq!(read, recorded);
}

#[tokio::test]
async fn another_partners_events_are_neither_listed_nor_a_cursor() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let mut ours = h.record_events("partner_demo", 2).await;
    let theirs = h.record_events(OTHER_PARTNER, 2).await;
    ours.extend(h.record_events("partner_demo", 2).await);

    assert_eq!(h.catch_up(&oauth, None).await.0, ours);
    let newest: Vec<String> = ours.iter().rev().cloned().collect();
    assert_eq!(h.page_ids(&oauth, "").await, newest);

    for cursor in [&theirs[0], &theirs[1], &"evt_nope".to_owned()] {
        let reply = h
            .list_events(&oauth, &format!("?order=oldest_first&after={cursor}"))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{cursor}");
        assert_eq!(
            reply.body,
            json!({"code": "not_found", "message": "no such event"})
        );
    }
}

#[tokio::test]
async fn newest_first_stays_the_default_and_takes_a_limit() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let recorded = h.record_events("partner_demo", 120).await;
    let newest: Vec<String> = recorded.iter().rev().cloned().collect();
    assert_eq!(h.page_ids(&oauth, "").await, newest[..100]);
    assert_eq!(h.page_ids(&oauth, "?limit=2").await, newest[..2]);
    assert_eq!(
        h.page_ids(&oauth, "?order=newest_first&limit=2").await,
        newest[..2]
    );
}

#[tokio::test]
async fn a_cursor_reads_on_within_a_delivery_status_from_any_event() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let recorded = h.record_events("partner_demo", 4).await;
    for id in [&recorded[0], &recorded[2]] {
        h.sandbox.store.event_delivered(id).await.unwrap();
    }
    let pending = "?order=oldest_first&status=pending";
    assert_eq!(
        h.page_ids(&oauth, pending).await,
        [recorded[1].clone(), recorded[3].clone()]
    );
    // The cursor may be an event the filter leaves out.
    let after_delivered = format!("{pending}&after={}", recorded[2]);
    assert_eq!(
        h.page_ids(&oauth, &after_delivered).await,
        [recorded[3].clone()]
    );
}

#[tokio::test]
async fn every_malformed_parameter_gets_this_apis_own_400() {
    let h = harness().await;
    let oauth = h.oauth_token().await;
    let known = h.record_events("partner_demo", 1).await.remove(0);
    let after_needs_order =
        "after needs order=oldest_first: a cursor reads on from an event, oldest first";
    let cases: [(&str, &str); 15] = [
        ("?order=sideways", "order is newest_first or oldest_first"),
        ("?order=", "order is newest_first or oldest_first"),
        ("?limit=0", "limit is a whole number from 1 to 100"),
        ("?limit=101", "limit is a whole number from 1 to 100"),
        ("?limit=ten", "limit is a whole number from 1 to 100"),
        ("?limit=1.5", "limit is a whole number from 1 to 100"),
        ("?limit=", "limit is a whole number from 1 to 100"),
        (
            "?status=lost",
            "status is one of pending, delivered, failed",
        ),
        // A cursor without oldest_first is refused before it is looked up,
        // known or not.
        (&format!("?after={known}"), after_needs_order),
        ("?after=evt_nope", after_needs_order),
        (
            &format!("?order=newest_first&after={known}"),
            after_needs_order,
        ),
        (
            "?order=oldest_first&after=",
            "after is an event id, as the list gives it",
        ),
        (
            "?order=oldest_first&after=evt%20x",
            "after is an event id, as the list gives it",
        ),
        // Repeated or unknown: a misspelt cursor is refused, never ignored.
        (
            "?limit=5&limit=6",
            "the query takes status, order, after and limit, each at most once",
        ),
        (
            &format!("?order=oldest_first&afer={known}"),
            "the query takes status, order, after and limit, each at most once",
        ),
    ];
    for (query, message) in cases {
        let reply = h.list_events(&oauth, query).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/json",
            "{query}"
        );
        assert_eq!(
            reply.body,
            json!({"code": "invalid_request", "message": message}),
            "{query}"
        );
    }
}
