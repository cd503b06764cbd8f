-- Internal notes: from the merchant's agents to each other, never to the customer. They go with
-- the conversation (through transfers and requeues) and are deleted with it.
CREATE TABLE notes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    agent_id        BIGINT NOT NULL,
    author_name     TEXT NOT NULL,
    -- The console's id for it: a note sent again is stored once.
    client_id       TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    UNIQUE (conversation_id, agent_id, client_id)
);
CREATE INDEX notes_conversation ON notes (conversation_id, id);
