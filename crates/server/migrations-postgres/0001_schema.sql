-- The whole schema in one step: merchants and their agents, live conversations, the customer
-- experience, dispatch, per-merchant limits and the append-only audit log. Every integer is a
-- BIGINT (the store reads and writes i64), flags are BOOLEANs, and lists and transcripts are
-- JSONB arrays.

-- Merchants embed the widget; agents answer their customers.
CREATE TABLE merchants (
    id                        TEXT PRIMARY KEY NOT NULL,
    display_name              TEXT NOT NULL,
    support_email             TEXT,
    created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Free text shown to agents and customers, e.g. "Mon–Fri 09:00–17:00 CET"; NULL = always staffed.
    business_hours            TEXT,
    -- The merchant's bot flow (JSON, validated before it is stored), kept as the text it was given.
    bot_flow                  TEXT,
    locale                    TEXT,
    -- 'off', 'optional' or 'required': ask for an email before the handoff.
    ask_email                 TEXT NOT NULL DEFAULT 'off',
    -- Key for the HMAC-SHA256 that signs `Tandem.identify` ids (hex, 256 bits); NULL: identify off.
    identity_secret           TEXT,
    -- The honest promise shown with "leave a message".
    reply_within_hours        BIGINT NOT NULL DEFAULT 24,
    offer_timeout_secs        BIGINT NOT NULL DEFAULT 20,
    missed_offers_before_away BIGINT NOT NULL DEFAULT 3,
    grace_secs                BIGINT NOT NULL DEFAULT 60,
    -- Seconds a waiting customer may have no live connection before the chat is abandoned.
    abandon_after_secs        BIGINT NOT NULL DEFAULT 120,
    -- Most chats waiting at once; a new handoff past it is refused with `too_busy`.
    max_waiting               BIGINT NOT NULL DEFAULT 200,
    -- Seconds a signed `Tandem.identify` stays valid after its `issued_at`.
    identity_max_age_secs     BIGINT NOT NULL DEFAULT 86400,
    -- Days conversations and left messages are kept.
    retain_days               BIGINT NOT NULL DEFAULT 365
);

-- The page origins (scheme://host[:port]) allowed to embed a merchant's widget.
CREATE TABLE merchant_origins (
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    origin      TEXT NOT NULL,
    PRIMARY KEY (merchant_id, origin)
);

CREATE TABLE agents (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- In lower case: the store writes and looks emails up that way.
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    -- argon2id PHC string; the password itself is never stored.
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Primary language subtags and skills, e.g. '["en","sv"]' and '["billing"]'.
    languages     JSONB NOT NULL DEFAULT '["en"]',
    skills        JSONB NOT NULL DEFAULT '[]',
    capacity      BIGINT NOT NULL DEFAULT 3,
    -- 'agent' or 'admin' (invites colleagues, deactivates them, sees the supervisor view).
    role          TEXT NOT NULL DEFAULT 'agent',
    -- FALSE: deactivated; cannot sign in, and every session of theirs is gone.
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (merchant_id, email)
);

-- An agent signs in with their email alone, so emails are unique across merchants.
CREATE UNIQUE INDEX agents_email ON agents (email);

CREATE TABLE conversations (
    id                     TEXT PRIMARY KEY NOT NULL,
    -- Insertion order: breaks ties between conversations queued or created in the same
    -- millisecond, so that every listing has one order.
    ord                    BIGINT GENERATED ALWAYS AS IDENTITY,
    merchant_id            TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- SHA-256 of the customer's token; the token itself is never stored.
    token_hash             TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('waiting', 'active', 'ended')),
    agent_id               BIGINT REFERENCES agents (id) ON DELETE SET NULL,
    locale                 TEXT NOT NULL,
    page_url               TEXT NOT NULL,
    reason                 TEXT NOT NULL,
    -- What the bot noticed before the handoff.
    escalation             TEXT,
    -- The bot conversation before the handoff, as a JSON array of {from, text}.
    transcript             JSONB NOT NULL,
    -- Sequence number of the newest message; the next one gets last_seq + 1.
    last_seq               BIGINT NOT NULL DEFAULT 0,
    created_at_ms          BIGINT NOT NULL,
    -- When it last entered the queue: the queue is ordered by this.
    queued_at_ms           BIGINT NOT NULL,
    ended_at_ms            BIGINT,
    customer_id            TEXT,
    customer_email         TEXT,
    customer_name          TEXT,
    rating                 BIGINT,
    rating_comment         TEXT,
    skill                  TEXT,
    -- When a person first accepted it (time to human), and when the current agent did.
    answered_at_ms         BIGINT,
    accepted_at_ms         BIGINT,
    -- TRUE: returned by an agent; waits ahead of everyone not yet answered.
    front                  BOOLEAN NOT NULL DEFAULT FALSE,
    -- When the customer's last live connection closed (or the page said it left); NULL while
    -- one is open. A new conversation starts "away" until its page connects.
    customer_away_since_ms BIGINT,
    -- TRUE when the email came signed with the identity; FALSE when the customer typed it.
    customer_email_signed  BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX conversations_queue ON conversations (merchant_id, status, front, queued_at_ms);
CREATE INDEX conversations_agent ON conversations (agent_id, status);
CREATE INDEX conversations_by_day ON conversations (merchant_id, created_at_ms);
CREATE INDEX conversations_away ON conversations (status, customer_away_since_ms);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    -- 'customer' or 'agent'; a client id is unique per sender, so a retry is stored once.
    author_kind     TEXT NOT NULL,
    author_name     TEXT,
    client_id       TEXT NOT NULL,
    text            TEXT NOT NULL,
    sent_at_ms      BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, author_kind, client_id)
);

CREATE TABLE agent_sessions (
    -- SHA-256 of the session cookie's token.
    token_hash    TEXT PRIMARY KEY NOT NULL,
    agent_id      BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    expires_at_ms BIGINT NOT NULL
);
-- Signing an agent out everywhere (and deactivating them) finds their sessions by agent.
CREATE INDEX agent_sessions_by_agent ON agent_sessions (agent_id);

CREATE TABLE left_messages (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    text          TEXT NOT NULL,
    locale        TEXT NOT NULL,
    page_url      TEXT NOT NULL,
    -- JSON array of transcript entries (what the bot heard first).
    transcript    JSONB NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX left_messages_by_merchant ON left_messages (merchant_id, created_at_ms);

CREATE TABLE invites (
    -- SHA-256 of the invite token; the token itself travels only in the link's fragment.
    token_hash    TEXT PRIMARY KEY NOT NULL,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    role          TEXT NOT NULL DEFAULT 'agent',
    created_by    BIGINT REFERENCES agents (id) ON DELETE SET NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT
);

-- Who did what to what, when; never customer text. No foreign key: the log outlives what it
-- names.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    -- 'agent:<id> <email>' or 'cli'.
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_merchant ON audit_log (merchant_id, id);

-- The database itself keeps the log append-only: any UPDATE or DELETE of a row (and a TRUNCATE,
-- which row triggers would not see) is refused.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
