//! Guessing client secrets at `POST /oauth/token` (RFC 6749 §2.3.1): failed
//! client authentications are limited per address, per client id and per
//! (address, client id), before the secret is checked, without telling a
//! guesser whether the client exists; a client at an address it has
//! authenticated from is charged to that pair alone.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};

use super::{basic, harness, Harness, Reply};

const FORM: &str = "grant_type=client_credentials";

impl Harness {
    /// A token request as a peer at `ip` sends it (the `ConnectInfo` that
    /// `Sandbox::serve` attaches to every request).
    async fn token_request_from(&self, ip: &str, id: &str, secret: &str) -> Reply {
        let mut request = Request::post("/oauth/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::AUTHORIZATION, basic(id, secret))
            .body(Body::from(FORM))
            .unwrap();
        let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        self.send(request).await
    }

    /// `n` wrong secrets for `id` from `ip`, each refused as `invalid_client`.
    async fn fail(&self, ip: &str, id: &str, n: usize) {
        for i in 0..n {
            let reply = self.token_request_from(ip, id, "guess").await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "guess {i} from {ip}"
            );
        }
    }
}

fn assert_limited(reply: &Reply, retry_after: &str) {
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.body["error"], "temporarily_unavailable");
    assert_eq!(reply.headers[header::RETRY_AFTER], retry_after);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn guessing_a_secret_from_one_address_gets_429_after_ten_failures_and_no_more_guesses_are_checked(
) {
    let h = harness().await;
    h.fail("203.0.113.9", "demo_client_id", 10).await;
    let limited = h
        .token_request_from("203.0.113.9", "demo_client_id", "guess")
        .await;
    assert_limited(&limited, "6");
    // Over the limit the secret is not even checked: the right one is refused too.
    let right = h
        .token_request_from("203.0.113.9", "demo_client_id", "demo_client_secret")
        .await;
    assert_limited(&right, "6");
    assert_eq!(h.sandbox.stats().oauth_tokens_issued, 0);
    // Then one guess every 6 seconds.
    h.clock.advance(Duration::from_secs(6));
    h.fail("203.0.113.9", "demo_client_id", 1).await;
    let limited = h
        .token_request_from("203.0.113.9", "demo_client_id", "guess")
        .await;
    assert_limited(&limited, "6");
}

#[tokio::test]
async fn guessing_for_an_unknown_client_id_is_limited_and_answered_exactly_like_a_known_one() {
    let h = harness().await;
    let known_401 = h
        .token_request_from("203.0.113.1", "demo_client_id", "guess")
        .await;
    let unknown_401 = h.token_request_from("203.0.113.2", "ghost", "guess").await;
    h.fail("203.0.113.1", "demo_client_id", 9).await;
    h.fail("203.0.113.2", "ghost", 9).await;
    let known_429 = h
        .token_request_from("203.0.113.1", "demo_client_id", "guess")
        .await;
    let unknown_429 = h.token_request_from("203.0.113.2", "ghost", "guess").await;
    for (known, unknown) in [(&known_401, &unknown_401), (&known_429, &unknown_429)] {
        assert_eq!(known.status, unknown.status);
        assert_eq!(known.body, unknown.body);
        let mut known_headers = known.headers.clone();
        let mut unknown_headers = unknown.headers.clone();
        known_headers.remove(header::DATE);
        unknown_headers.remove(header::DATE);
        assert_eq!(known_headers, unknown_headers);
    }
    assert_limited(&unknown_429, "6");
}

#[tokio::test]
async fn a_guesser_at_one_address_leaves_every_other_address_its_own_allowance() {
    let h = harness().await;
    h.fail("203.0.113.9", "demo_client_id", 10).await;
    let limited = h
        .token_request_from("203.0.113.9", "demo_client_id", "guess")
        .await;
    assert_limited(&limited, "6");
    // Another address still has its own ten, and the right secret works from it.
    h.fail("198.51.100.7", "demo_client_id", 1).await;
    let right = h
        .token_request_from("198.51.100.7", "demo_client_id", "demo_client_secret")
        .await;
    assert_eq!(right.status, StatusCode::OK);
}

#[tokio::test]
async fn guessers_spread_over_many_addresses_are_slowed_per_client_id_but_cannot_lock_the_client_out(
) {
    let h = harness().await;
    // The merchant's server authenticates from its own address.
    let merchant = "192.0.2.10";
    let ok = h
        .token_request_from(merchant, "demo_client_id", "demo_client_secret")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    // Two guessers' full allowances empty the client id's burst of 20…
    h.fail("203.0.113.1", "demo_client_id", 10).await;
    h.fail("203.0.113.2", "demo_client_id", 10).await;
    // …so a third address, with its own allowance untouched, is slowed to one a second.
    let third = h
        .token_request_from("203.0.113.3", "demo_client_id", "guess")
        .await;
    assert_limited(&third, "1");
    // A new address of the client's is slowed too (the secret is not checked)…
    let new_address = h
        .token_request_from("192.0.2.11", "demo_client_id", "demo_client_secret")
        .await;
    assert_limited(&new_address, "1");
    // …but the address it authenticated from before is not charged to the client id.
    let ok = h
        .token_request_from(merchant, "demo_client_id", "demo_client_secret")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    // Slowed, not locked out: a second later the new address gets through.
    h.clock.advance(Duration::from_secs(1));
    let later = h
        .token_request_from("192.0.2.11", "demo_client_id", "demo_client_secret")
        .await;
    assert_eq!(later.status, StatusCode::OK);
}

/// The red team's case: a guesser behind the merchant's own egress address
/// (a shared NAT, a neighbour on the same cloud address) must not make the
/// merchant's token request wait past what its client waits for (5 s).
#[tokio::test]
async fn a_guesser_at_the_clients_own_address_does_not_keep_the_client_from_its_token() {
    let h = harness().await;
    let merchant = "192.0.2.10";
    let ok = h
        .token_request_from(merchant, "demo_client_id", "demo_client_secret")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    // A guesser at that address, trying other client ids, is limited there…
    h.fail(merchant, "ghost", 5).await;
    h.fail(merchant, "other_client_id", 5).await;
    let guesser = h.token_request_from(merchant, "ghost", "guess").await;
    assert_limited(&guesser, "6");
    // …and the client, from the address it authenticated from, gets its token at once.
    for _ in 0..3 {
        let ok = h
            .token_request_from(merchant, "demo_client_id", "demo_client_secret")
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    }
    // The guesser is still limited, its secrets unchecked.
    let guesser = h.token_request_from(merchant, "ghost", "guess").await;
    assert_limited(&guesser, "6");
    let tokens = h.sandbox.stats().oauth_tokens_issued;
    assert_eq!(tokens, 4);
}

/// What the exemption costs, bounded: a guesser at the client's own address
/// that claims the client's own id cannot be told from the client before the
/// secret is checked, so it meets that address's allowance for that client —
/// ten, then one every 6 s — and no more; the secret is not checked past it.
#[tokio::test]
async fn a_guesser_claiming_the_client_at_its_own_address_gets_one_allowance_and_no_more() {
    let h = harness().await;
    let merchant = "192.0.2.10";
    let ok = h
        .token_request_from(merchant, "demo_client_id", "demo_client_secret")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    h.fail(merchant, "demo_client_id", 10).await;
    let limited = h
        .token_request_from(merchant, "demo_client_id", "guess")
        .await;
    assert_limited(&limited, "6");
    let right = h
        .token_request_from(merchant, "demo_client_id", "demo_client_secret")
        .await;
    assert_limited(&right, "6");
    // Other client ids from there have the address's own allowance, not more:
    // ten guesses in all at ids that never authenticated from it.
    h.fail(merchant, "ghost", 10).await;
    assert_limited(
        &h.token_request_from(merchant, "ghost2", "guess").await,
        "6",
    );
    // Six seconds later, one more guess each: the rate is the address's.
    h.clock.advance(Duration::from_secs(6));
    h.fail(merchant, "demo_client_id", 1).await;
    assert_limited(
        &h.token_request_from(merchant, "demo_client_id", "guess")
            .await,
        "6",
    );
    let ok = h
        .token_request_from(merchant, "demo_client_id", "demo_client_secret")
        .await;
    assert_limited(&ok, "6");
}

#[tokio::test]
async fn successful_authentications_use_none_of_the_failure_allowance() {
    let h = harness().await;
    for _ in 0..30 {
        let ok = h
            .token_request_from("192.0.2.10", "demo_client_id", "demo_client_secret")
            .await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    // Nine failures, a success between them, then the tenth failure is still a 401.
    h.fail("192.0.2.20", "demo_client_id", 9).await;
    let ok = h
        .token_request_from("192.0.2.20", "demo_client_id", "demo_client_secret")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    h.fail("192.0.2.20", "demo_client_id", 1).await;
    let limited = h
        .token_request_from("192.0.2.20", "demo_client_id", "guess")
        .await;
    assert_limited(&limited, "6");
}

/// Over a real socket `Sandbox::serve` gives each request its peer: two
/// loopback addresses are two allowances.
#[tokio::test]
async fn over_a_socket_each_peer_address_has_its_own_failure_allowance() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sandbox = crate::Sandbox::open(crate::Config::in_memory(), crate::SystemClock)
        .await
        .unwrap();
    let server = tokio::spawn(sandbox.serve(listener, async {
        let _ = stopped.await;
    }));
    let status_from = |from: [u8; 4]| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        let request = format!(
            "POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Authorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{FORM}",
            basic("demo_client_id", "guess"),
            FORM.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response[9..12].to_owned()
    };
    for _ in 0..10 {
        assert_eq!(status_from([127, 0, 0, 1]).await, "401");
    }
    assert_eq!(status_from([127, 0, 0, 1]).await, "429");
    assert_eq!(status_from([127, 0, 0, 2]).await, "401");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
