//! What one checkout token costs the vendor: signing it at init, verifying
//! it on every checkout call. `cargo bench -p sandbox --bench tokens`.

use criterion::{criterion_group, criterion_main, Criterion};
use sandbox::token::{CheckoutClaims, CheckoutTokens};
use std::hint::black_box;

const NOW: u64 = 1_800_000_000;

fn claims() -> CheckoutClaims {
    CheckoutClaims {
        partner_id: "demo_partner".into(),
        client_id: "demo_client_id".into(),
        customer_id: "cus_1001".into(),
        invoice_id: "inv_1001".into(),
        exp: NOW + 900,
        iat: NOW,
        jti: "ct_0123456789abcdefghijkl".into(),
        iss: sandbox::token::ISSUER.into(),
        aud: sandbox::token::AUDIENCE.into(),
    }
}

fn tokens(c: &mut Criterion) {
    let tokens = CheckoutTokens::with_new_key(NOW);
    let claims = claims();
    let token = tokens.sign(&claims);
    assert_eq!(tokens.verify(&token, NOW), Ok(claims.clone()));

    c.bench_function("checkout token: sign (Ed25519)", |b| {
        b.iter(|| tokens.sign(black_box(&claims)))
    });
    c.bench_function("checkout token: verify (Ed25519)", |b| {
        b.iter(|| tokens.verify(black_box(&token), NOW))
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
