-- Live conversations between customers and agents.

-- An agent signs in with their email alone, so emails are unique across merchants.
CREATE UNIQUE INDEX agents_email ON agents (email);

-- Free text shown to agents and customers, e.g. "Mon–Fri 09:00–17:00 CET"; NULL = always staffed.
ALTER TABLE merchants ADD COLUMN business_hours TEXT;

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY NOT NULL,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- SHA-256 of the customer's token; the token itself is never stored.
    token_hash    TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('waiting', 'active', 'ended')),
    agent_id      INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    locale        TEXT NOT NULL,
    page_url      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    -- The bot conversation before the handoff, as a JSON array of {from, text}.
    transcript    TEXT NOT NULL,
    -- Sequence number of the newest message; the next one gets last_seq + 1.
    last_seq      INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    -- When it last entered the queue: the queue is ordered by this.
    queued_at_ms  INTEGER NOT NULL,
    ended_at_ms   INTEGER
);

CREATE INDEX conversations_queue ON conversations (merchant_id, status, queued_at_ms);
CREATE INDEX conversations_agent ON conversations (agent_id, status);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    -- 'customer' or 'agent'; a client id is unique per sender, so a retry is stored once.
    author_kind     TEXT NOT NULL,
    author_name     TEXT,
    client_id       TEXT NOT NULL,
    text            TEXT NOT NULL,
    sent_at_ms      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, author_kind, client_id)
);

CREATE TABLE agent_sessions (
    -- SHA-256 of the session cookie's token.
    token_hash    TEXT PRIMARY KEY NOT NULL,
    agent_id      INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    expires_at_ms INTEGER NOT NULL
);
