-- Per-merchant limits on waiting, trust and keeping; customers away from a waiting chat; what a
-- signed identity covers; and an append-only audit log.

-- Seconds a waiting customer may have no live connection before the chat is abandoned.
ALTER TABLE merchants ADD COLUMN abandon_after_secs INTEGER NOT NULL DEFAULT 120;
-- Most chats waiting at once; a new handoff past it is refused with `too_busy`.
ALTER TABLE merchants ADD COLUMN max_waiting INTEGER NOT NULL DEFAULT 200;
-- Seconds a signed `Tandem.identify` stays valid after its `issued_at`.
ALTER TABLE merchants ADD COLUMN identity_max_age_secs INTEGER NOT NULL DEFAULT 86400;
-- Days conversations and left messages are kept.
ALTER TABLE merchants ADD COLUMN retain_days INTEGER NOT NULL DEFAULT 365;

-- When the customer's last live connection closed (or the page said it left); NULL while one
-- is open. A new conversation starts "away" until its page connects.
ALTER TABLE conversations ADD COLUMN customer_away_since_ms INTEGER;
UPDATE conversations SET customer_away_since_ms = queued_at_ms WHERE status = 'waiting';
CREATE INDEX conversations_away ON conversations (status, customer_away_since_ms);
-- 1 when the email came signed with the identity; 0 when the customer typed it (or it is older
-- than signed emails).
ALTER TABLE conversations ADD COLUMN customer_email_signed INTEGER NOT NULL DEFAULT 0;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    -- 'agent:<id> <email>' or 'cli'.
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_merchant ON audit_log (merchant_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
