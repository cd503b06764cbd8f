-- The merchant's bot flow (JSON, validated before it is stored) and, per conversation, what the
-- bot noticed before the handoff.
ALTER TABLE merchants ADD COLUMN bot_flow TEXT;
ALTER TABLE conversations ADD COLUMN escalation TEXT;
