-- Every change of the settings version (any merchant's settings, by the server or by a command
-- beside it) wakes every running instance at once: a NOTIFY on the channel the instances listen
-- on (see src/cluster.rs), delivered when the change commits. The instances also read the
-- version every second, which covers a notification missed while one was not listening.
CREATE FUNCTION settings_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('tandem', json_build_object(
        'from', 'database',
        'at_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        'signal', 'Settings')::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER settings_changed AFTER UPDATE ON settings_version
    FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();
