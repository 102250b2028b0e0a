//! Random identifiers: token ids (`jti`), opaque access tokens, key ids,
//! payment ids. A module of its own so that anything may name things without
//! depending on what else a module of tokens or keys brings along.

use base64::Engine;
use rand::RngCore;

/// A random identifier with a readable prefix, e.g. `jti` or an opaque token.
pub fn random_id(prefix: &str, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    format!("{prefix}{encoded}")
}
