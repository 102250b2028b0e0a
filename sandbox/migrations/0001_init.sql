-- The sandbox vendor's records. Money is TEXT holding a decimal string
-- ("1250.00"): exact, and compared as the vendor's API shows it.

CREATE TABLE partners (
    id TEXT PRIMARY KEY NOT NULL
) STRICT;

CREATE TABLE api_clients (
    client_id     TEXT PRIMARY KEY NOT NULL,
    partner_id    TEXT NOT NULL REFERENCES partners (id),
    -- SHA-256 of the client secret: a copy of this file leaks no credential.
    secret_sha256 BLOB NOT NULL
) STRICT;

CREATE TABLE customers (
    id         TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    name       TEXT NOT NULL
) STRICT;

CREATE TABLE invoices (
    id             TEXT PRIMARY KEY NOT NULL,
    partner_id     TEXT NOT NULL REFERENCES partners (id),
    customer_id    TEXT NOT NULL REFERENCES customers (id),
    invoice_number TEXT NOT NULL,
    currency       TEXT NOT NULL,
    sub_total      TEXT NOT NULL,
    total          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'paid')),
    created_at     TEXT NOT NULL,
    due_date       TEXT NOT NULL
) STRICT;

CREATE TABLE payment_methods (
    id          TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    kind        TEXT NOT NULL CHECK (kind IN ('card', 'bank_account')),
    brand       TEXT NOT NULL,
    last4       TEXT NOT NULL,
    exp_month   INTEGER,
    exp_year    INTEGER
) STRICT;

CREATE TABLE payments (
    id                TEXT PRIMARY KEY NOT NULL,
    -- One payment settles one invoice, once.
    invoice_id        TEXT NOT NULL UNIQUE REFERENCES invoices (id),
    payment_method_id TEXT NOT NULL REFERENCES payment_methods (id),
    amount            TEXT NOT NULL,
    currency          TEXT NOT NULL,
    created_at        INTEGER NOT NULL
) STRICT;

-- The first answer to each Idempotency-Key, replayed for any repeat.
CREATE TABLE idempotency_keys (
    client_id    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (client_id, key)
) STRICT;

CREATE TABLE oauth_grants (
    -- SHA-256 of the access token, for the same reason as client secrets.
    token_sha256 BLOB PRIMARY KEY NOT NULL,
    client_id    TEXT NOT NULL REFERENCES api_clients (client_id),
    partner_id   TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX oauth_grants_expiry ON oauth_grants (expires_at);

-- Checkout-token signing keys, so tokens survive a restart.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY NOT NULL,
    seed       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
) STRICT;
