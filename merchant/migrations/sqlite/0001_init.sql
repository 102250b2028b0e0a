-- The merchant's own records: its users (each one of the vendor's customers)
-- and its invoices. Sessions live in tower-sessions' own table.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- Argon2id, PHC string format: the salt and parameters travel with it.
    password_hash TEXT NOT NULL,
    -- The vendor's id for this user as a paying customer.
    customer_id   TEXT NOT NULL,
    name          TEXT NOT NULL
) STRICT;

CREATE TABLE invoices (
    id             TEXT PRIMARY KEY NOT NULL,
    customer_id    TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    currency       TEXT NOT NULL,
    -- A decimal string, as the vendor shows it.
    total          TEXT NOT NULL
) STRICT;
CREATE INDEX invoices_by_customer ON invoices (customer_id);
