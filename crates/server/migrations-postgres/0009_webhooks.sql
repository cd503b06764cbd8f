-- Merchants' webhooks, and every delivery owed to them: an outbox, so that an event is sent
-- however long the receiver is down (retried with backoff for 24 hours) and never lost.
CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    -- The HMAC-SHA256 key deliveries are signed with (shown once, when added).
    secret        TEXT NOT NULL,
    -- The events it is sent, comma-separated (`conversation_started,agent_joined`).
    events        TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id                 TEXT PRIMARY KEY,
    webhook_id         TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event              TEXT NOT NULL,
    body               TEXT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    -- An instance sending it holds it until then (`claim` names that instance's batch).
    claimed_until_ms   BIGINT NOT NULL DEFAULT 0,
    claim              TEXT,
    delivered_at_ms    BIGINT,
    -- Not sent within 24 hours: no more attempts.
    given_up           BOOLEAN NOT NULL DEFAULT FALSE,
    last_error         TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE delivered_at_ms IS NULL;
