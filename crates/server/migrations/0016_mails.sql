-- Mail owed: a message left, emailed to the merchant's support address, and transcripts the
-- customers asked for. An outbox, so that a mail server that is down loses nothing: each is
-- retried with backoff for 24 hours. Once sent, only the envelope is kept (no bodies).
CREATE TABLE mails (
    id                 TEXT PRIMARY KEY,
    merchant_id        TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- A transcript's conversation: it goes with it (retention, erasure).
    conversation_id    TEXT REFERENCES conversations (id) ON DELETE CASCADE,
    -- A message left's mail goes with the message.
    left_message_id    INTEGER REFERENCES left_messages (id) ON DELETE CASCADE,
    -- `message_left` or `transcript`.
    kind               TEXT NOT NULL,
    to_address         TEXT NOT NULL,
    reply_to           TEXT,
    subject            TEXT NOT NULL,
    text_body          TEXT NOT NULL,
    html_body          TEXT NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    claimed_until_ms   INTEGER NOT NULL DEFAULT 0,
    claim              TEXT,
    sent_at_ms         INTEGER,
    given_up           BOOLEAN NOT NULL DEFAULT FALSE,
    last_error         TEXT
);
CREATE INDEX mails_due ON mails (next_attempt_at_ms) WHERE sent_at_ms IS NULL;
CREATE INDEX mails_by_conversation ON mails (conversation_id);
CREATE INDEX mails_by_left_message ON mails (left_message_id);
CREATE INDEX mails_by_merchant ON mails (merchant_id, created_at_ms);
