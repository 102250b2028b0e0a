-- What the vendor told the merchant and what was paid, as
-- ../sqlite/0003_payments.sql.

CREATE TABLE vendor_events (
    -- The vendor's event id: a repeated delivery finds it here.
    id          TEXT PRIMARY KEY NOT NULL,
    type        TEXT NOT NULL,
    invoice_id  TEXT,
    -- The verified body, exactly as received.
    body        TEXT NOT NULL,
    -- Unix seconds.
    received_at BIGINT NOT NULL,
    -- recorded, already_recorded, unknown_invoice, conflict or ignored.
    outcome     TEXT NOT NULL
);

CREATE TABLE payments (
    invoice_id  TEXT PRIMARY KEY NOT NULL REFERENCES invoices (id),
    payment_id  TEXT NOT NULL UNIQUE,
    amount      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    -- How the merchant learnt of it first.
    source      TEXT NOT NULL CHECK (source IN ('event', 'reconcile'))
);
