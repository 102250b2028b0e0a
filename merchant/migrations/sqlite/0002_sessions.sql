-- Sessions, in the merchant's own table (merchant/src/sessions/sqlite.rs):
-- a save updates a live row and never creates one, so a deleted session
-- stays deleted. tower-sessions' table, written with an upsert, goes; the
-- sessions it held end (everyone logs in again once).

DROP TABLE IF EXISTS tower_sessions;

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    -- The session's data: a JSON object.
    data       TEXT NOT NULL,
    -- Unix time in milliseconds; a row past it is refused, then deleted.
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
