-- Internal notes: from the merchant's agents to each other, never to the customer. They go with
-- the conversation (through transfers and requeues) and are deleted with it.
CREATE TABLE notes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    agent_id        INTEGER NOT NULL,
    author_name     TEXT NOT NULL,
    -- The console's id for it: a note sent again is stored once.
    client_id       TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    UNIQUE (conversation_id, agent_id, client_id)
);
