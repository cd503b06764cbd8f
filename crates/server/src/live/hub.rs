use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use tandem_protocol::{ChatMessage, ConversationId, OfferEnd, Rating, Seq};
use tokio::sync::broadcast;

use crate::store::AgentId;

/// Which side of a conversation caused an event; sessions skip echoes of their own side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Customer,
    Agent,
}

/// What happened in a conversation, after it was committed.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    Message(ChatMessage),
    Typing {
        from: Side,
        typing: bool,
    },
    Read {
        from: Side,
        seq: Seq,
    },
    AgentJoined {
        name: String,
    },
    /// The agent put the conversation back in the queue.
    AgentLeft {
        name: String,
    },
    Ended,
    /// The agent handed the customer back to the bot.
    BackToBot,
    /// The customer rated the conversation after it ended.
    Rated(Rating),
}

/// What dispatch tells one agent, on every console they have open.
#[derive(Debug, Clone)]
pub enum AgentNotice {
    Offered {
        conversation: ConversationId,
        expires_at_ms: i64,
    },
    OfferEnded {
        conversation: ConversationId,
        reason: OfferEnd,
    },
    /// Set away after missing offers in a row.
    WentAway,
    /// Their chat went back to the queue (they were disconnected too long, or removed).
    ChatReturned {
        conversation: ConversationId,
    },
    /// An admin deactivated them: every console closes now.
    Deactivated,
    /// One of their sessions signed out: the consoles opened with it close now.
    SignedOut {
        /// The session's token hash, as stored.
        session: String,
    },
}

/// Notices an agent's console has not read yet; offers are rare, so a few suffice.
const NOTICES_PER_AGENT: usize = 16;

/// Room for events a slow session has not read yet; past it the session is told it lagged and
/// reloads from the database.
const EVENTS_PER_CONVERSATION: usize = 64;

/// Broadcast channels by key, created by the first subscriber and dropped once nobody listens.
///
/// The lock is held only to look up or insert a channel, never across an `.await`.
struct Topics<K, E> {
    channels: Mutex<HashMap<K, broadcast::Sender<E>>>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, E: Clone> Topics<K, E> {
    fn new(capacity: usize) -> Self {
        Self { channels: Mutex::new(HashMap::new()), capacity }
    }

    fn subscribe(&self, key: &K) -> broadcast::Receiver<E> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels.entry(key.clone()).or_insert_with(|| broadcast::channel(self.capacity).0).subscribe()
    }

    /// Drops the channels nobody listens to any more (a session's receiver goes when it does).
    fn prune(&self) {
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, sender| sender.receiver_count() > 0);
    }

    fn len(&self) -> usize {
        self.channels.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn publish(&self, key: &K, event: E) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = channels.get(key) {
            if sender.receiver_count() == 0 {
                channels.remove(key);
            } else {
                let _ = sender.send(event);
            }
        }
    }
}

/// Fan-out of live events between the sessions of one server process.
pub struct Hub {
    conversations: Topics<ConversationId, LiveEvent>,
    /// Dispatch notices per agent, for each console they have open.
    agents: Topics<AgentId, AgentNotice>,
}

impl Default for Hub {
    fn default() -> Self {
        Self { conversations: Topics::new(EVENTS_PER_CONVERSATION), agents: Topics::new(NOTICES_PER_AGENT) }
    }
}

impl Hub {
    pub fn subscribe(&self, conversation: &ConversationId) -> broadcast::Receiver<LiveEvent> {
        self.conversations.subscribe(conversation)
    }

    pub fn publish(&self, conversation: &ConversationId, event: LiveEvent) {
        self.conversations.publish(conversation, event);
    }

    pub fn agent_notices(&self, agent: AgentId) -> broadcast::Receiver<AgentNotice> {
        self.agents.subscribe(&agent)
    }

    pub fn notify_agent(&self, agent: AgentId, notice: AgentNotice) {
        self.agents.publish(&agent, notice);
    }

    /// Forgets conversations and agents with no session left (see `crate::upkeep`).
    pub fn prune(&self) {
        self.conversations.prune();
        self.agents.prune();
    }

    /// How many channels are open, for tests of bounded memory.
    pub fn channels(&self) -> usize {
        self.conversations.len() + self.agents.len()
    }
}
