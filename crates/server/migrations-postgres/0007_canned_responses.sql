-- A merchant's prepared answers, found by agents with `/` in the console's composer.
CREATE TABLE canned_responses (
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    shortcut      TEXT NOT NULL,
    title         TEXT NOT NULL,
    -- JSON array of {locale, text}.
    texts         TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, shortcut)
);
