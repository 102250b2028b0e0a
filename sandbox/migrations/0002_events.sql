-- Events the vendor tells a partner's server about (payments), and where
-- their delivery to the partner's webhook endpoint stands. An event is
-- written in the same transaction as what it reports, so an answer that was
-- sent always has its event.

CREATE TABLE events (
    id              TEXT PRIMARY KEY NOT NULL,
    partner_id      TEXT NOT NULL,
    type            TEXT NOT NULL,
    -- The exact body delivered (and signed): a JSON object.
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Unix seconds: when the next delivery attempt is due, and after which
    -- the event is given up (marked failed) instead of tried again.
    next_attempt_at INTEGER NOT NULL,
    deliver_until   INTEGER NOT NULL,
    -- The last attempt's outcome, for the list ("HTTP 500", "timed out").
    last_error      TEXT
) STRICT;
CREATE INDEX events_due ON events (status, next_attempt_at);
CREATE INDEX events_by_partner ON events (partner_id, created_at);
