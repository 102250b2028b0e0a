-- Sessions (merchant/src/sessions/sql.rs), as ../sqlite/0002_sessions.sql:
-- a save updates a live row and never creates one, so a deleted session
-- stays deleted, on every instance that shares this database.

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    -- The session's data: a JSON object.
    data       TEXT NOT NULL,
    -- Unix time in milliseconds; a row past it is refused, then deleted.
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
