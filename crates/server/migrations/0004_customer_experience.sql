-- The customer experience: the merchant's widget settings, who the customer is (verified by the
-- merchant's signature, or an email they gave), ratings, and messages left when nobody can answer.
ALTER TABLE merchants ADD COLUMN locale TEXT;
-- 'off', 'optional' or 'required': ask for an email before the handoff.
ALTER TABLE merchants ADD COLUMN ask_email TEXT NOT NULL DEFAULT 'off';
-- Key for the HMAC-SHA256 that signs `Tandem.identify` ids (hex, 256 bits); NULL: identify off.
ALTER TABLE merchants ADD COLUMN identity_secret TEXT;
-- The honest promise shown with "leave a message".
ALTER TABLE merchants ADD COLUMN reply_within_hours INTEGER NOT NULL DEFAULT 24;

ALTER TABLE conversations ADD COLUMN customer_id TEXT;
ALTER TABLE conversations ADD COLUMN customer_email TEXT;
ALTER TABLE conversations ADD COLUMN customer_name TEXT;
ALTER TABLE conversations ADD COLUMN rating INTEGER;
ALTER TABLE conversations ADD COLUMN rating_comment TEXT;

CREATE TABLE left_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    text        TEXT NOT NULL,
    locale      TEXT NOT NULL,
    page_url    TEXT NOT NULL,
    -- JSON array of transcript entries (what the bot heard first).
    transcript  TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX left_messages_by_merchant ON left_messages (merchant_id, created_at_ms);
