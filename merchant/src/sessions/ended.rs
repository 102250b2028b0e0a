//! A log-out that every instance of a fleet honours at once: the ended
//! session's id is written to Redis before its row is deleted, and an
//! instance asks Redis before it uses its own copy of a session. Without
//! Redis (none configured, or unreachable) a copy is used while it is
//! fresh ([`super::FRESH_FOR`]), as on a single instance.
//!
//! Only ended ids are stored, each until the longest a session can live
//! ([`ENDED_FOR`]): an ended id is worth nothing to anyone who reads it.
//!
//! A request that has already asked Redis (a mint asks this with its other
//! questions in one round trip, `crate::gate`) runs [`known_live`]: its
//! session's copy is then used without asking again.

use std::time::Duration;

use redis::AsyncCommands;
use tower_sessions::session::Id;

use crate::fleet::FleetRedis;

/// How long an ended id is remembered: longer than any session lives
/// (8 hours of inactivity, `server`'s session layer).
pub const ENDED_FOR: Duration = Duration::from_secs(9 * 3600);

tokio::task_local! {
    /// The session the running request has just learnt is live in the fleet.
    static KNOWN_LIVE: Id;
}

/// Runs `work` knowing that session `id` had not ended anywhere when it
/// began: [`EndedSessions::has_ended`] answers that for it without Redis.
pub async fn known_live<F: std::future::Future>(id: Id, work: F) -> F::Output {
    KNOWN_LIVE.scope(id, work).await
}

/// Sessions ended anywhere in the fleet, kept in Redis.
#[derive(Debug, Clone)]
pub struct EndedSessions {
    redis: FleetRedis,
}

impl EndedSessions {
    pub fn new(redis: FleetRedis) -> Self {
        Self { redis }
    }

    fn key(&self, id: &Id) -> String {
        key(&self.redis, id)
    }

    /// Tells the fleet `id` has ended; `false` if Redis could not be told
    /// (the others then stop using their copies within `FRESH_FOR`).
    pub async fn end(&self, id: &Id) -> bool {
        let key = self.key(id);
        self.redis
            .run("sessions", |mut redis| async move {
                redis.set_ex::<_, _, ()>(key, 1, ENDED_FOR.as_secs()).await
            })
            .await
            .is_some()
    }

    /// Whether `id` has ended; `None` if Redis cannot say now.
    pub async fn has_ended(&self, id: &Id) -> Option<bool> {
        if KNOWN_LIVE.try_with(|live| live == id).unwrap_or(false) {
            return Some(false);
        }
        let key = self.key(id);
        self.redis
            .run("sessions", |mut redis| async move {
                redis.exists::<_, bool>(key).await
            })
            .await
    }
}

/// The key marking session `id` ended, in `redis`.
pub(crate) fn key(redis: &FleetRedis, id: &Id) -> String {
    redis.key(&format!("session-ended:{id}"))
}
