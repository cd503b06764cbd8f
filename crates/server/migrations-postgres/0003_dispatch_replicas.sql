-- The leading instance's dispatchers, as the instances that follow read them (see
-- src/cluster.rs). Derived state, rebuilt by every new leader: unlogged, so writing it costs no
-- WAL, and emptied by a crash, which is fine. Rewritten after each change and read at once:
-- stored uncompressed.
CREATE UNLOGGED TABLE dispatch_replicas (
    merchant_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
ALTER TABLE dispatch_replicas ALTER COLUMN body SET STORAGE EXTERNAL;
