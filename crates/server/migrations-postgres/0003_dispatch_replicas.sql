-- The leading instance's dispatchers, as the instances that follow read them (see
-- src/cluster.rs). Derived state, rebuilt by every new leader: unlogged, so writing it costs no
-- WAL, and emptied by a crash, which is fine.
CREATE UNLOGGED TABLE dispatch_replicas (
    merchant_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
