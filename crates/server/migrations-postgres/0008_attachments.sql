-- Files sent in a chat (images and PDFs). The bytes are kept beside their conversation, so that
-- every instance serves them from the database and they go when it goes (retention, erasure).
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- Its media type, read from its bytes.
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    bytes           BYTEA NOT NULL,
    created_at_ms   BIGINT NOT NULL
);
-- The hourly limit counts a conversation's recent files.
CREATE INDEX attachments_conversation ON attachments (conversation_id, created_at_ms);
-- The message a file was sent as carries what clients show of it (id, name, kind, size).
ALTER TABLE messages ADD COLUMN attachment JSONB;
