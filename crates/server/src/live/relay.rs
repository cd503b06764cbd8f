//! Typing and read receipts, coalesced: a session relays them at most once per
//! [`RELAY_EVERY`], the latest state of each conversation winning, so a client that sends a
//! flood of them costs the other side nothing and the last word (stopped typing, read up to
//! here) still arrives.

use std::collections::HashMap;
use std::hash::Hash;

use tandem_protocol::{ConversationId, Seq};
use tokio::time::{Duration, Instant};

use super::{Hub, LiveEvent, Side};

pub const RELAY_EVERY: Duration = Duration::from_millis(250);

/// What waits to be relayed for one conversation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub typing: Option<bool>,
    pub read: Option<Seq>,
}

#[derive(Debug)]
pub struct Coalesced<K> {
    pending: HashMap<K, Pending>,
    next_at: Instant,
}

impl<K: Hash + Eq> Coalesced<K> {
    pub fn new() -> Self {
        Self { pending: HashMap::new(), next_at: Instant::now() }
    }

    pub fn typing(&mut self, key: K, typing: bool) {
        self.pending.entry(key).or_default().typing = Some(typing);
    }

    pub fn read(&mut self, key: K, seq: Seq) {
        let pending = self.pending.entry(key).or_default();
        pending.read = Some(pending.read.map_or(seq, |read| read.max(seq)));
    }

    /// When the next batch may leave, if one waits.
    pub fn due(&self) -> Option<Instant> {
        (!self.pending.is_empty()).then_some(self.next_at)
    }

    /// The batch to relay now, if its turn has come (else nothing, and it waits).
    pub fn take_if_due(&mut self, now: Instant) -> Vec<(K, Pending)> {
        if now < self.next_at || self.pending.is_empty() {
            return Vec::new();
        }
        self.next_at = now + RELAY_EVERY;
        self.pending.drain().collect()
    }
}

impl Coalesced<ConversationId> {
    /// Publishes what waits, from `from`, if its turn has come.
    pub fn relay_due(&mut self, hub: &Hub, from: Side) {
        for (id, pending) in self.take_if_due(Instant::now()) {
            if let Some(typing) = pending.typing {
                hub.publish(&id, LiveEvent::Typing { from, typing });
            }
            if let Some(seq) = pending.read {
                hub.publish(&id, LiveEvent::Read { from, seq });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_leaves_as_its_first_and_its_latest_state() {
        let mut relay = Coalesced::new();
        let start = Instant::now();
        relay.typing((), true);
        assert_eq!(relay.take_if_due(start), vec![((), Pending { typing: Some(true), read: None })]);
        for i in 0..40u64 {
            relay.typing((), i % 2 == 0);
            relay.read((), i);
            assert!(relay.take_if_due(start).is_empty(), "waits for its turn");
        }
        relay.typing((), false);
        assert_eq!(relay.due(), Some(start + RELAY_EVERY));
        let later = relay.take_if_due(start + RELAY_EVERY);
        assert_eq!(later, vec![((), Pending { typing: Some(false), read: Some(39) })]);
        assert_eq!(relay.due(), None);
    }
}
