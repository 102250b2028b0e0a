-- The merchant's own records, on PostgreSQL: the same tables and meaning
-- as ../sqlite/0001_init.sql (users, each one of the vendor's customers,
-- and their invoices).

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stored lower-cased (merchant/src/users.rs), so unique regardless of
    -- case, as SQLite's NOCASE column makes it there.
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    -- Argon2id, PHC string format: the salt and parameters travel with it.
    password_hash TEXT NOT NULL,
    -- The vendor's id for this user as a paying customer.
    customer_id   TEXT NOT NULL,
    name          TEXT NOT NULL
);

CREATE TABLE invoices (
    id             TEXT PRIMARY KEY NOT NULL,
    customer_id    TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    currency       TEXT NOT NULL,
    -- A decimal string, as the vendor shows it.
    total          TEXT NOT NULL
);
CREATE INDEX invoices_by_customer ON invoices (customer_id);
