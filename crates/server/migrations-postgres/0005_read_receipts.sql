-- How far each side has read the conversation (the seq of the last message it has seen), so a
-- page or console that connects again shows "Seen" as it was.
ALTER TABLE conversations ADD COLUMN customer_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN agent_read_seq BIGINT NOT NULL DEFAULT 0;
