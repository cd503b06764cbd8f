-- Agents' languages and skills are JSON arrays ('["en","sv"]'), read and written as lists
-- rather than joined with commas. Language subtags and skills never hold quotes or commas, so
-- each list is rewritten in place. The columns' old defaults are never used: the store's one
-- agent insert writes both.
UPDATE agents SET
    languages = CASE WHEN languages = '' THEN '[]' ELSE '["' || replace(languages, ',', '","') || '"]' END,
    skills = CASE WHEN skills = '' THEN '[]' ELSE '["' || replace(skills, ',', '","') || '"]' END;
