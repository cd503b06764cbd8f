//! Live sessions: the in-memory hub that fans events out, and the two WebSocket channels.
//!
//! The database is the source of truth (queue order, who handles what, every message); the hub
//! only wakes connected sessions up. A session that misses events (slow reader, reconnect)
//! catches up from the database by sequence number, so nothing depends on the hub's memory —
//! which is why a server restart loses nothing.

pub mod agent;
mod backlog;
pub mod customer;
mod hub;
mod relay;
mod seen;
mod wire;

pub use hub::{AgentNotice, Crossing, Hub, LiveEvent, Side};
pub use wire::LiveTiming;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
