//! A log-out that every instance of a fleet honours at once: the ended
//! session's id is written to Redis before its row is deleted, and an
//! instance asks Redis before it uses its own copy of a session. Without
//! Redis (none configured, or unreachable) a copy is used while it is
//! fresh ([`super::FRESH_FOR`]), as on a single instance.
//!
//! Only ended ids are stored, each until the longest a session can live
//! ([`ENDED_FOR`]): an ended id is worth nothing to anyone who reads it.

use std::time::Duration;

use redis::AsyncCommands;
use tower_sessions::session::Id;

use crate::fleet::FleetRedis;

/// How long an ended id is remembered: longer than any session lives
/// (8 hours of inactivity, `server`'s session layer).
pub const ENDED_FOR: Duration = Duration::from_secs(9 * 3600);

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
        self.redis.key(&format!("session-ended:{id}"))
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
        let key = self.key(id);
        self.redis
            .run("sessions", |mut redis| async move {
                redis.exists::<_, bool>(key).await
            })
            .await
    }
}
