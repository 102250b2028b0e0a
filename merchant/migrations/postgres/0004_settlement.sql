-- The mismatch state and the catch-up's cursor, as
-- ../sqlite/0004_settlement.sql.

ALTER TABLE payments ADD COLUMN state TEXT NOT NULL DEFAULT 'paid'
    CHECK (state IN ('paid', 'mismatch'));

ALTER TABLE vendor_events ADD COLUMN via TEXT NOT NULL DEFAULT 'webhook'
    CHECK (via IN ('webhook', 'catch_up'));

CREATE TABLE event_cursor (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
