-- A payment that does not match its invoice is not "paid": it is recorded
-- with its own amount and marked, for a person to look at. And the
-- catch-up's place in the vendor's event list, so that a restart neither
-- reads every event again nor skips one.

-- paid: the amount and currency are the invoice's; mismatch: they are not.
ALTER TABLE payments ADD COLUMN state TEXT NOT NULL DEFAULT 'paid'
    CHECK (state IN ('paid', 'mismatch'));

-- How the event reached the merchant: delivered to its webhook endpoint,
-- or found by the catch-up in the vendor's list.
ALTER TABLE vendor_events ADD COLUMN via TEXT NOT NULL DEFAULT 'webhook'
    CHECK (via IN ('webhook', 'catch_up'));

CREATE TABLE event_cursor (
    -- One row.
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    -- The last event of the vendor's list the catch-up recorded (every
    -- event before it is recorded too).
    last_event_id TEXT NOT NULL,
    -- Unix seconds.
    updated_at    INTEGER NOT NULL
) STRICT;
