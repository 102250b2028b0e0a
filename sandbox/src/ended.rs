//! Checkout tokens a test harness has ended before their `exp`
//! (`POST /sandbox/tokens/{jti}/expire` and `/revoke`): the refusals a
//! merchant's page must handle, on demand, with a real token.
//!
//! The sandbox keeps no list of the tokens it issued (they are JWTs: it
//! verifies them by signature), so it remembers ended ids instead, each for
//! as long as a token may live, and checks the list after the signature.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixSeconds;

/// How a token was ended, and so how it is refused from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// As if past its `exp`: `401 access_token_expired`, the answer the
    /// SDK's expiry handler exists for.
    Expired,
    /// Withdrawn by the vendor: `401 invalid_token`.
    Revoked,
}

/// At most this many ended ids are remembered at once: the list is for test
/// harnesses, and must not grow without bound if one loops.
pub const MAX_ENDED: usize = 100_000;

/// The ended ids, each with the time after which no token with that id can
/// be valid anyway (and the entry can go).
#[derive(Debug, Default)]
pub struct EndedTokens(Mutex<HashMap<String, (Ended, UnixSeconds)>>);

/// The list is full of ids that are all still needed.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

impl EndedTokens {
    /// Ends `jti` until `forget_after` (a later `end` of the same id wins).
    pub fn end(
        &self,
        jti: &str,
        how: Ended,
        now: UnixSeconds,
        forget_after: UnixSeconds,
    ) -> Result<(), Full> {
        let mut ended = self.0.lock().expect("ended tokens lock");
        if ended.len() >= MAX_ENDED && !ended.contains_key(jti) {
            ended.retain(|_, (_, until)| *until > now);
            if ended.len() >= MAX_ENDED {
                return Err(Full);
            }
        }
        ended.insert(jti.to_owned(), (how, forget_after));
        Ok(())
    }

    /// How `jti` was ended, if it was.
    pub fn get(&self, jti: &str) -> Option<Ended> {
        self.0
            .lock()
            .expect("ended tokens lock")
            .get(jti)
            .map(|(how, _)| *how)
    }

    pub fn clear(&self) {
        self.0.lock().expect("ended tokens lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_list_makes_room_from_ids_past_their_time_only() {
        let ended = EndedTokens::default();
        for i in 0..MAX_ENDED {
            // Half of them may go at 100, half are needed until 300.
            let until = if i % 2 == 0 { 100 } else { 300 };
            ended
                .end(&format!("ct_{i}"), Ended::Expired, 0, until)
                .unwrap();
        }
        assert_eq!(ended.end("ct_new", Ended::Revoked, 50, 400), Err(Full));
        ended.end("ct_new", Ended::Revoked, 200, 400).unwrap();
        assert_eq!(ended.get("ct_new"), Some(Ended::Revoked));
        assert_eq!(ended.get("ct_0"), None, "past its time: gone");
        assert_eq!(
            ended.get("ct_1"),
            Some(Ended::Expired),
            "still needed: kept"
        );
        // The same id again is an update, never refused.
        for i in 0..MAX_ENDED {
            if ended
                .end(&format!("more_{i}"), Ended::Expired, 200, 300)
                .is_err()
            {
                break;
            }
        }
        assert!(ended.end("ct_1", Ended::Revoked, 200, 300).is_ok());
        assert_eq!(ended.get("ct_1"), Some(Ended::Revoked));
    }
}
