-- What the vendor told the merchant (its events, each recorded once) and
-- what the merchant therefore knows was paid (one payment per invoice,
-- whichever way it was learnt first: the event, or a read after Pay).

CREATE TABLE vendor_events (
    -- The vendor's event id: a repeated delivery finds it here.
    id          TEXT PRIMARY KEY NOT NULL,
    type        TEXT NOT NULL,
    invoice_id  TEXT,
    -- The verified body, exactly as received.
    body        TEXT NOT NULL,
    -- Unix seconds.
    received_at INTEGER NOT NULL,
    -- What it changed: recorded, already_recorded, unknown_invoice,
    -- conflict (another payment holds the invoice) or ignored (a type
    -- this merchant does not act on).
    outcome     TEXT NOT NULL
) STRICT;

CREATE TABLE payments (
    invoice_id  TEXT PRIMARY KEY NOT NULL REFERENCES invoices (id),
    payment_id  TEXT NOT NULL UNIQUE,
    amount      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    -- How the merchant learnt of it first.
    source      TEXT NOT NULL CHECK (source IN ('event', 'reconcile'))
) STRICT;
