//! The merchant's per-mint work besides the network: the OAuth token cache's
//! hit path (every mint takes it), the JWKS key lookup and the check of the
//! relayed checkout token. `cargo bench -p alternative-client --bench parts`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alternative_client::parts::TokenCache;
use alternative_client::parts::TokenVerifier;
use alternative_client::{OAuthAccessToken, VendorError};
use criterion::{criterion_group, criterion_main, Criterion};
use futures::FutureExt;
use sandbox::token::{CheckoutClaims, CheckoutTokens};

/// A warm cache: one token, good for an hour.
fn warm_cache() -> TokenCache {
    let cache = TokenCache::default();
    cache
        .get(|| async {
            Ok::<_, VendorError>((
                OAuthAccessToken::new(format!("sbx_oat_{}", "x".repeat(43))),
                Duration::from_secs(3600),
            ))
        })
        .now_or_never()
        .expect("no await on a fetch that is ready")
        .expect("the fetch succeeds");
    cache
}

/// A hit never awaits: it completes on its first poll.
fn hit(cache: &TokenCache) -> OAuthAccessToken {
    cache
        .get(|| async { unreachable!("a warm cache does not fetch") })
        .now_or_never()
        .expect("a hit is ready at once")
        .expect("a hit is a token")
}

fn token_cache(c: &mut Criterion) {
    let cache = Arc::new(warm_cache());
    c.bench_function("OAuth token cache: hit", |b| {
        b.iter(|| black_box(hit(&cache)))
    });
    // The same hits from two threads at once: with nothing serialising them,
    // the time per hit halves on two cores.
    c.bench_function("OAuth token cache: hit, 2 threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    let cache = cache.clone();
                    scope.spawn(move || {
                        for _ in 0..iters / 2 {
                            black_box(hit(&cache));
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
}

fn jwks(c: &mut Criterion) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let tokens = CheckoutTokens::with_new_key(now);
    let claims = CheckoutClaims {
        partner_id: "demo_partner".into(),
        client_id: "demo_client_id".into(),
        customer_id: "cus_1001".into(),
        invoice_id: "inv_1001".into(),
        exp: now + 900,
        iat: now,
        jti: "ct_0123456789abcdefghijkl".into(),
        iss: sandbox::token::ISSUER.into(),
        aud: sandbox::token::AUDIENCE.into(),
    };
    let token = tokens.sign(&claims);
    let set = tokens.keys().jwks(now);
    let kid = set.keys[0].common.key_id.clone().unwrap();
    let verifier = TokenVerifier::new(reqwest::Client::new(), "http://unused.invalid".into());
    assert_eq!(verifier.install(&set), 1);

    c.bench_function("JWKS: key lookup by kid", |b| {
        b.iter(|| verifier.key(black_box(&kid)).expect("known kid"))
    });
    c.bench_function(
        "relayed checkout token: verify (header, key, Ed25519, claims)",
        |b| {
            b.iter(|| {
                verifier
                    .verify(
                        black_box(&token),
                        "demo_client_id",
                        "cus_1001",
                        "inv_1001",
                        std::time::SystemTime::now(),
                    )
                    .now_or_never()
                    .expect("a known key needs no fetch")
                    .expect("the token verifies")
            })
        },
    );
}

criterion_group!(benches, token_cache, jwks);
criterion_main!(benches);
