-- Merchants embed the widget; agents answer their customers.

CREATE TABLE merchants (
    id            TEXT PRIMARY KEY NOT NULL,
    display_name  TEXT NOT NULL,
    support_email TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The page origins (scheme://host[:port]) allowed to embed a merchant's widget.
CREATE TABLE merchant_origins (
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    origin      TEXT NOT NULL,
    PRIMARY KEY (merchant_id, origin)
);

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    -- argon2id PHC string; the password itself is never stored.
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (merchant_id, email)
);
