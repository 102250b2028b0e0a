//! The checkout-token signing keys: Ed25519, named by `kid`, published as a
//! JWKS, stored so tokens survive a restart, and rotated.
//!
//! Rotation: a new key signs from the moment it is made; the one it replaces
//! stays in the JWKS and keeps verifying until every token it signed has
//! expired (retirement + the longest token lifetime + leeway), then is dropped.

use std::sync::RwLock;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand::RngCore;

use crate::clock::UnixSeconds;
use crate::ids::random_id;

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410 §7): what
/// jsonwebtoken expects in front of the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A forced rotation (`POST /sandbox/rotate-keys`) is refused until the
/// signing key has signed this long. A verifier that meets an unknown `kid`
/// refetches the JWKS, but not more often than a floor of its own (the
/// merchant's is 10 s): two rotations inside that floor leave it with a key
/// it cannot fetch yet, and every token fails to verify until the floor
/// passes. Three times that floor, for verifiers a little slower than the
/// merchant's.
pub const FORCED_ROTATION_MIN_AGE_SECS: UnixSeconds = 30;

/// A signing key as stored.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub seed: [u8; 32],
    pub created_at: UnixSeconds,
    pub retired_at: Option<UnixSeconds>,
}

/// Fresh key material, to be stored and then installed.
pub fn generate(now: UnixSeconds) -> StoredKey {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    StoredKey {
        kid: random_id("key_", 9),
        seed,
        created_at: now,
        retired_at: None,
    }
}

pub struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
    created_at: UnixSeconds,
    /// When a newer key took over signing; `None` while this one signs.
    retired_at: Option<UnixSeconds>,
}

impl SigningKey {
    fn from_stored(stored: &StoredKey) -> Self {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&stored.seed);
        let encoding = EncodingKey::from_ed_der(&der);
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
            .expect("a 32-byte seed is a valid Ed25519 key");
        let AlgorithmParameters::OctetKeyPair(params) = &jwk.algorithm else {
            unreachable!("an Ed25519 key is an OKP key");
        };
        let decoding =
            DecodingKey::from_ed_components(&params.x).expect("x was just base64url-encoded");
        jwk.common.key_id = Some(stored.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        Self {
            kid: stored.kid.clone(),
            encoding,
            decoding,
            jwk,
            created_at: stored.created_at,
            retired_at: stored.retired_at,
        }
    }

    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }
}

pub struct KeyRing {
    /// Oldest first; the last one signs.
    keys: RwLock<Vec<SigningKey>>,
    /// How long a key signs before the next one takes over.
    rotate_every: u64,
    /// How long a retired key keeps verifying: the longest token lifetime
    /// plus the verification leeway.
    verify_after_retirement: u64,
}

impl KeyRing {
    /// A ring of the stored keys, oldest first; `signing` is the newest, which signs.
    pub fn new(
        stored: &[StoredKey],
        signing: &StoredKey,
        rotate_every: u64,
        verify_after_retirement: u64,
    ) -> Self {
        let keys = stored
            .iter()
            .filter(|k| k.kid != signing.kid)
            .chain(std::iter::once(signing))
            .map(SigningKey::from_stored)
            .collect();
        Self {
            keys: RwLock::new(keys),
            rotate_every,
            verify_after_retirement,
        }
    }

    /// Calls `f` with the key that signs now.
    pub fn with_signing_key<T>(&self, f: impl FnOnce(&SigningKey) -> T) -> T {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        f(keys.last().expect("the ring always holds a signing key"))
    }

    /// Since when the signing key has signed.
    pub fn signing_since(&self) -> UnixSeconds {
        self.with_signing_key(|key| key.created_at)
    }

    /// Whether the signing key has signed long enough to be replaced on
    /// demand ([`FORCED_ROTATION_MIN_AGE_SECS`]); `Err` holds the seconds
    /// until it has (for `Retry-After`).
    pub fn may_force_rotation(&self, now: UnixSeconds) -> Result<(), u64> {
        let age = now.saturating_sub(self.signing_since());
        if age < FORCED_ROTATION_MIN_AGE_SECS {
            return Err(FORCED_ROTATION_MIN_AGE_SECS - age);
        }
        Ok(())
    }

    /// Whether the signing key has signed for its whole period.
    pub fn rotation_due(&self, now: UnixSeconds) -> bool {
        self.with_signing_key(|key| now >= key.created_at.saturating_add(self.rotate_every))
    }

    /// Makes `next` the signing key from `now`; the one it replaces verifies
    /// until its tokens are gone.
    pub fn install(&self, next: &StoredKey, now: UnixSeconds) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if let Some(current) = keys.last_mut() {
            current.retired_at = Some(now);
        }
        keys.retain(|k| self.still_verifies(k, now));
        keys.push(SigningKey::from_stored(next));
        tracing::info!(kid = %next.kid, "a new key signs checkout tokens");
    }

    /// Retired keys retired before this no longer verify and can be forgotten.
    pub fn retirement_cutoff(&self, now: UnixSeconds) -> UnixSeconds {
        now.saturating_sub(self.verify_after_retirement)
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
pub fn test_ring(now: UnixSeconds, rotate_every: u64, verify_after_retirement: u64) -> KeyRing {
    KeyRing::new(&[], &generate(now), rotate_every, verify_after_retirement)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixSeconds = 1_800_000_000;

    #[test]
    fn the_jwks_publishes_only_public_okp_keys() {
        let ring = test_ring(NOW, 86_400, 905);
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
        let ring = test_ring(NOW, 86_400, 905);
        let old = ring.with_signing_key(|k| k.kid.clone());
        ring.install(&generate(NOW + 10), NOW + 10);
        let new = ring.with_signing_key(|k| k.kid.clone());
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
    fn rotation_is_due_after_the_period() {
        let ring = test_ring(NOW, 100, 905);
        assert!(!ring.rotation_due(NOW + 99));
        assert!(ring.rotation_due(NOW + 100));
    }

    #[test]
    fn the_same_seed_makes_the_same_public_key() {
        let stored = generate(NOW);
        let a = test_jwk(&stored);
        let b = test_jwk(&stored);
        assert_eq!(a, b);
    }

    fn test_jwk(stored: &StoredKey) -> serde_json::Value {
        serde_json::to_value(KeyRing::new(&[], stored, 1, 1).jwks(NOW)).unwrap()
    }
}
