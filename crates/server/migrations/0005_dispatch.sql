-- Dispatch: offers with a timeout, agents' languages, skills and capacity, admins, invites, and
-- the times the supervisor view reports.
ALTER TABLE merchants ADD COLUMN offer_timeout_secs INTEGER NOT NULL DEFAULT 20;
ALTER TABLE merchants ADD COLUMN missed_offers_before_away INTEGER NOT NULL DEFAULT 3;
ALTER TABLE merchants ADD COLUMN grace_secs INTEGER NOT NULL DEFAULT 60;

-- Comma-separated primary language subtags and skills, e.g. 'en,sv' and 'billing'.
ALTER TABLE agents ADD COLUMN languages TEXT NOT NULL DEFAULT 'en';
ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN capacity INTEGER NOT NULL DEFAULT 3;
-- 'agent' or 'admin' (invites colleagues, deactivates them, sees the supervisor view).
ALTER TABLE agents ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';
-- 0: deactivated; cannot sign in, and every session of theirs is gone.
ALTER TABLE agents ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

ALTER TABLE conversations ADD COLUMN skill TEXT;
-- When a person first accepted it (time to human), and when the current agent did.
ALTER TABLE conversations ADD COLUMN answered_at_ms INTEGER;
ALTER TABLE conversations ADD COLUMN accepted_at_ms INTEGER;
-- 1: returned by an agent; waits ahead of everyone not yet answered.
ALTER TABLE conversations ADD COLUMN front INTEGER NOT NULL DEFAULT 0;
DROP INDEX conversations_queue;
CREATE INDEX conversations_queue ON conversations (merchant_id, status, front, queued_at_ms);
CREATE INDEX conversations_by_day ON conversations (merchant_id, created_at_ms);

CREATE TABLE invites (
    -- SHA-256 of the invite token; the token itself travels only in the link's fragment.
    token_hash    TEXT PRIMARY KEY NOT NULL,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    role          TEXT NOT NULL DEFAULT 'agent',
    created_by    INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER
);
