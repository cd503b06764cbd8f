-- Bumped with every change of a merchant's settings, so that a running server (which keeps each
-- merchant's dispatch rules in memory) notices a change made by `tandem merchant add` and
-- takes it up without a restart.
CREATE TABLE settings_version (version INTEGER NOT NULL);
INSERT INTO settings_version (version) VALUES (0);
