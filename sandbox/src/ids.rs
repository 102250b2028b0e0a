//! Identifiers: random ones (token ids (`jti`), opaque access tokens, key
//! ids, payment ids) and the shape every id a caller sends must have. A
//! module of its own so that anything may name things without depending on
//! what else a module of tokens or keys brings along.

use base64::Engine;
use rand::RngCore;

/// Ids are short printable ASCII (`[A-Za-z0-9_-]{1,64}`, the shape
/// `random_id` makes and the seed's ids have); anything else is malformed,
/// not merely unknown.
pub fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A random identifier with a readable prefix, e.g. `jti` or an opaque token.
pub fn random_id(prefix: &str, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    format!("{prefix}{encoded}")
}
