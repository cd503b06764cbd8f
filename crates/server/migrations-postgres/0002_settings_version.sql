-- Bumped with every change of a merchant's settings, so that running servers (which keep each
-- merchant's dispatch rules in memory) notice a change made by `tandem merchant add` and take it
-- up without a restart.
CREATE TABLE settings_version (version BIGINT NOT NULL);
INSERT INTO settings_version (version) VALUES (0);
