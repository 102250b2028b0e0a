//! The checkout-token signing keys: Ed25519, named by `kid`, published as a
//! JWKS, and rotated.
//!
//! Rotation: a new key signs from the moment it is made; the one it replaces
//! stays in the JWKS and keeps verifying until every token it signed has
//! expired (retirement + the longest token lifetime + leeway), then is dropped.

use std::sync::RwLock;

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand::RngCore;

use crate::clock::UnixSeconds;
use crate::token::random_id;

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410 §7): what
/// jsonwebtoken expects in front of the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    pub decoding: DecodingKey,
    jwk: Jwk,
    created_at: UnixSeconds,
    /// When a newer key took over signing; `None` while this one signs.
    retired_at: Option<UnixSeconds>,
}

impl SigningKey {
    fn generate(now: UnixSeconds) -> Self {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        Self::from_seed(&seed, random_id("key_", 9), now)
    }

    pub fn from_seed(seed: &[u8; 32], kid: String, created_at: UnixSeconds) -> Self {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(seed);
        let encoding = EncodingKey::from_ed_der(&der);
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
            .expect("a 32-byte seed is a valid Ed25519 key");
        let jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(params) = &jwk.algorithm else {
            unreachable!("an Ed25519 key is an OKP key");
        };
        let decoding =
            DecodingKey::from_ed_components(&params.x).expect("x was just base64url-encoded");
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        Self {
            kid,
            encoding,
            decoding,
            jwk,
            created_at,
            retired_at: None,
        }
    }

    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }
}

pub struct KeyRing {
    /// Newest last; the last one signs.
    keys: RwLock<Vec<SigningKey>>,
    /// How long a key signs before the next one takes over.
    rotate_every: u64,
    /// How long a retired key keeps verifying: the longest token lifetime
    /// plus the verification leeway.
    verify_after_retirement: u64,
}

impl KeyRing {
    pub fn new(now: UnixSeconds, rotate_every: u64, verify_after_retirement: u64) -> Self {
        Self {
            keys: RwLock::new(vec![SigningKey::generate(now)]),
            rotate_every,
            verify_after_retirement,
        }
    }

    /// Calls `f` with the key that signs now, rotating first if it is due.
    pub fn with_signing_key<T>(&self, now: UnixSeconds, f: impl FnOnce(&SigningKey) -> T) -> T {
        let due = |key: &SigningKey| now >= key.created_at.saturating_add(self.rotate_every);
        if self.signing(|key| due(key)) {
            self.rotate_if(now, due);
        }
        self.signing(f)
    }

    fn signing<T>(&self, f: impl FnOnce(&SigningKey) -> T) -> T {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        f(keys.last().expect("the ring always holds a signing key"))
    }

    /// A new key signs from now on; the old one verifies until its tokens are gone.
    pub fn rotate(&self, now: UnixSeconds) {
        self.rotate_if(now, |_| true);
    }

    /// Rotates if `due` says so of the signing key, judged under the write
    /// lock: concurrent signers that all saw a due key rotate it once.
    fn rotate_if(&self, now: UnixSeconds, due: impl FnOnce(&SigningKey) -> bool) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let current = keys
            .last_mut()
            .expect("the ring always holds a signing key");
        if !due(current) {
            return;
        }
        current.retired_at = Some(now);
        keys.retain(|k| self.still_verifies(k, now));
        keys.push(SigningKey::generate(now));
        tracing::info!(kid = %keys.last().map_or("", |k| k.kid.as_str()), "rotated the checkout-token signing key");
    }

    fn still_verifies(&self, key: &SigningKey, now: UnixSeconds) -> bool {
        key.retired_at
            .is_none_or(|retired| now < retired.saturating_add(self.verify_after_retirement))
    }

    /// Calls `f` with the key named `kid`, if it may still verify at `now`.
    pub fn with_verifying_key<T>(
        &self,
        kid: &str,
        now: UnixSeconds,
        f: impl FnOnce(&DecodingKey) -> T,
    ) -> Option<T> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .find(|k| k.kid == kid && self.still_verifies(k, now))
            .map(|k| f(&k.decoding))
    }

    /// The public keys that verify at `now` (RFC 7517 §5).
    pub fn jwks(&self, now: UnixSeconds) -> JwkSet {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        JwkSet {
            keys: keys
                .iter()
                .filter(|k| self.still_verifies(k, now))
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixSeconds = 1_800_000_000;

    #[test]
    fn the_jwks_publishes_only_public_okp_keys() {
        let ring = KeyRing::new(NOW, 86_400, 905);
        let jwks = serde_json::to_value(ring.jwks(NOW)).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().unwrap().starts_with("key_"));
        assert!(
            key.get("d").is_none(),
            "the private part is never published"
        );
    }

    #[test]
    fn a_retired_key_verifies_for_one_token_lifetime_then_disappears() {
        let ring = KeyRing::new(NOW, 86_400, 905);
        let old = ring.with_signing_key(NOW, |k| k.kid.clone());
        ring.rotate(NOW + 10);
        let new = ring.with_signing_key(NOW + 10, |k| k.kid.clone());
        assert_ne!(old, new);
        assert!(ring
            .with_verifying_key(&old, NOW + 10 + 904, |_| ())
            .is_some());
        assert_eq!(ring.jwks(NOW + 10 + 904).keys.len(), 2);
        assert!(ring
            .with_verifying_key(&old, NOW + 10 + 905, |_| ())
            .is_none());
        assert_eq!(ring.jwks(NOW + 10 + 905).keys.len(), 1);
    }

    #[test]
    fn signing_rotates_when_the_key_is_due() {
        let ring = KeyRing::new(NOW, 100, 905);
        let first = ring.with_signing_key(NOW + 99, |k| k.kid.clone());
        let second = ring.with_signing_key(NOW + 100, |k| k.kid.clone());
        assert_ne!(first, second);
    }
}
