//! Attacks on checkout-token verification, each test named after the attack
//! it stops (fault matrix rows T1–T5, T7).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;
use crate::ids::random_id;

const NOW: UnixSeconds = 1_800_000_000;
const TTL: u64 = 900;

fn tokens() -> CheckoutTokens {
    CheckoutTokens::new(crate::keys::test_ring(NOW, 86_400, TTL + LEEWAY_SECS))
}

fn claims() -> CheckoutClaims {
    CheckoutClaims {
        partner_id: "partner_demo".into(),
        client_id: "demo_client_id".into(),
        customer_id: "cus_acme".into(),
        invoice_id: "inv_1001".into(),
        exp: NOW + TTL,
        iat: NOW,
        jti: random_id("ct_", 16),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
    }
}

/// Signs any header and payload with the ring's real signing key.
fn sign_raw(tokens: &CheckoutTokens, header: &Header, payload: &Value) -> String {
    tokens
        .keys()
        .with_signing_key(|key| encode(header, payload, key.encoding()).unwrap())
}

fn checkout_header(tokens: &CheckoutTokens) -> Header {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(CHECKOUT_TOKEN_TYP.into());
    header.kid = Some(tokens.keys().with_signing_key(|k| k.kid.clone()));
    header
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[test]
fn a_genuine_token_verifies_with_its_claims() {
    let tokens = tokens();
    let issued = claims();
    let token = tokens.sign(&issued);
    assert_eq!(tokens.verify(&token, NOW), Ok(issued));
}

#[test]
fn t1_expired_token_is_refused_exactly_past_the_leeway() {
    let tokens = tokens();
    let token = tokens.sign(&claims());
    let edge = NOW + TTL + LEEWAY_SECS;
    assert!(tokens.verify(&token, edge - 1).is_ok());
    assert!(tokens.verify(&token, edge).is_ok());
    assert_eq!(tokens.verify(&token, edge + 1), Err(TokenError::Expired));
}

#[test]
fn t2_edited_payload_with_the_old_signature_is_invalid() {
    let tokens = tokens();
    let mut parts = segments(&tokens.sign(&claims()));
    let mut forged = claims();
    forged.invoice_id = "inv_2001".into();
    parts[1] = B64.encode(serde_json::to_vec(&forged).unwrap());
    assert_eq!(
        tokens.verify(&parts.join("."), NOW),
        Err(TokenError::Invalid)
    );
}

#[test]
fn t3_truncated_flipped_or_malformed_tokens_are_invalid_without_panicking() {
    let tokens = tokens();
    let token = tokens.sign(&claims());
    let parts = segments(&token);
    let mut flipped_sig = B64.decode(&parts[2]).unwrap();
    flipped_sig[0] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], B64.encode(flipped_sig));
    let cases = [
        token[..token.len() - 5].to_owned(),
        flipped,
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.extra"),
        String::new(),
        "...".into(),
        "not base64!.@@@.###".into(),
        format!(
            "{}.{}.{}",
            parts[0],
            B64.encode([0xff, 0xfe, 0x80]),
            parts[2]
        ),
        format!("{}.{}.", parts[0], parts[1]),
        "a".repeat(MAX_TOKEN_LEN + 1),
    ];
    for case in cases {
        assert_eq!(
            tokens.verify(&case, NOW),
            Err(TokenError::Invalid),
            "{case:.40}"
        );
    }
}

#[test]
fn t4_alg_none_is_invalid() {
    let tokens = tokens();
    let kid = tokens.keys().with_signing_key(|k| k.kid.clone());
    let header = json!({"alg": "none", "typ": CHECKOUT_TOKEN_TYP, "kid": kid});
    let unsigned = format!(
        "{}.{}.",
        B64.encode(header.to_string()),
        B64.encode(serde_json::to_vec(&claims()).unwrap())
    );
    assert_eq!(tokens.verify(&unsigned, NOW), Err(TokenError::Invalid));
}

#[test]
fn t4_hs256_signed_with_the_public_key_is_invalid() {
    let tokens = tokens();
    let jwks = serde_json::to_value(tokens.keys().jwks(NOW)).unwrap();
    let public_key = B64.decode(jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
    let mut header = checkout_header(&tokens);
    header.alg = Algorithm::HS256;
    let forged = encode(
        &header,
        &claims(),
        &EncodingKey::from_secret(&public_key).unwrap(),
    )
    .unwrap();
    assert_eq!(tokens.verify(&forged, NOW), Err(TokenError::Invalid));
}

#[test]
fn t5_a_token_signed_by_an_unknown_key_is_invalid() {
    let stranger = tokens();
    let token = stranger.sign(&claims());
    assert_eq!(tokens().verify(&token, NOW), Err(TokenError::Invalid));
}

#[test]
fn t5_a_key_retired_longer_than_a_token_lifetime_ago_no_longer_verifies() {
    let tokens = tokens();
    let token = tokens.sign(&claims());
    tokens
        .keys()
        .install(&crate::keys::generate(NOW + 1), NOW + 1);
    // Still good while a token it signed could be alive…
    assert!(tokens.verify(&token, NOW + 1 + TTL).is_ok());
    // …and the retired key is gone after that: even an exp far in the future is refused.
    let mut long = claims();
    long.exp = NOW + 10 * TTL;
    let long_lived = tokens.sign(&long);
    tokens
        .keys()
        .install(&crate::keys::generate(NOW + 2), NOW + 2);
    assert!(tokens
        .verify(&long_lived, NOW + 2 + TTL + LEEWAY_SECS - 1)
        .is_ok());
    assert_eq!(
        tokens.verify(&long_lived, NOW + 2 + TTL + LEEWAY_SECS),
        Err(TokenError::Invalid)
    );
}

#[test]
fn t7_a_token_missing_any_claim_is_invalid() {
    let tokens = tokens();
    let header = checkout_header(&tokens);
    for missing in [
        "exp",
        "iss",
        "aud",
        "invoice_id",
        "customer_id",
        "partner_id",
        "iat",
        "jti",
    ] {
        let mut payload = serde_json::to_value(claims()).unwrap();
        payload.as_object_mut().unwrap().remove(missing);
        let token = sign_raw(&tokens, &header, &payload);
        assert_eq!(
            tokens.verify(&token, NOW),
            Err(TokenError::Invalid),
            "without {missing}"
        );
    }
}

#[test]
fn t7_a_token_for_another_issuer_or_audience_is_invalid() {
    let tokens = tokens();
    let header = checkout_header(&tokens);
    for (claim, value) in [("iss", "someone-else"), ("aud", "alternative-oauth")] {
        let mut payload = serde_json::to_value(claims()).unwrap();
        payload[claim] = json!(value);
        let token = sign_raw(&tokens, &header, &payload);
        assert_eq!(
            tokens.verify(&token, NOW),
            Err(TokenError::Invalid),
            "{claim}={value}"
        );
    }
}

#[test]
fn t8_a_jwt_of_another_type_is_invalid_even_when_genuinely_signed() {
    let tokens = tokens();
    let mut header = checkout_header(&tokens);
    for typ in [None, Some("JWT"), Some("at+jwt")] {
        header.typ = typ.map(str::to_owned);
        let token = sign_raw(&tokens, &header, &serde_json::to_value(claims()).unwrap());
        assert_eq!(
            tokens.verify(&token, NOW),
            Err(TokenError::Invalid),
            "typ {typ:?}"
        );
    }
}

#[test]
fn a_token_without_a_kid_is_invalid() {
    let tokens = tokens();
    let mut header = checkout_header(&tokens);
    header.kid = None;
    let token = sign_raw(&tokens, &header, &serde_json::to_value(claims()).unwrap());
    assert_eq!(tokens.verify(&token, NOW), Err(TokenError::Invalid));
}
