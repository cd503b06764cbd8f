use std::collections::HashMap;
use std::sync::Mutex;

use tandem_protocol::{ChatMessage, ConversationId, MerchantId, Presence, Rating, Seq};
use tokio::sync::{broadcast, watch};

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
    /// The customer rated the conversation after it ended.
    Rated(Rating),
}

/// Room for events a slow session has not read yet; past it the session is told it lagged and
/// reloads from the database.
const EVENTS_PER_CONVERSATION: usize = 64;

/// Fan-out of live events between the sessions of one server process.
///
/// Each lock is held only to look up or insert a channel, never across an `.await`.
#[derive(Default)]
pub struct Hub {
    conversations: Mutex<HashMap<ConversationId, broadcast::Sender<LiveEvent>>>,
    /// Bumped whenever a merchant's queue (or the agents serving it) changes.
    queues: Mutex<HashMap<MerchantId, watch::Sender<u64>>>,
    /// Connected agents: merchant, presence, and how many consoles they have open.
    agents: Mutex<HashMap<AgentId, (MerchantId, Presence, usize)>>,
}

impl Hub {
    pub fn subscribe(&self, conversation: &ConversationId) -> broadcast::Receiver<LiveEvent> {
        let mut conversations = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
        conversations
            .entry(conversation.clone())
            .or_insert_with(|| broadcast::channel(EVENTS_PER_CONVERSATION).0)
            .subscribe()
    }

    pub fn publish(&self, conversation: &ConversationId, event: LiveEvent) {
        let mut conversations = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = conversations.get(conversation) {
            if sender.receiver_count() == 0 {
                conversations.remove(conversation);
            } else {
                let _ = sender.send(event);
            }
        }
    }

    pub fn watch_queue(&self, merchant: &MerchantId) -> watch::Receiver<u64> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues.entry(merchant.clone()).or_insert_with(|| watch::channel(0).0).subscribe()
    }

    pub fn queue_changed(&self, merchant: &MerchantId) {
        let queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = queues.get(merchant) {
            sender.send_modify(|version| *version = version.wrapping_add(1));
        }
    }

    /// Registers one more open console of `agent`, online.
    pub fn agent_connected(&self, agent: AgentId, merchant: &MerchantId) -> Presence {
        let presence = {
            let mut agents = self.agents.lock().unwrap_or_else(|e| e.into_inner());
            let entry = agents.entry(agent).or_insert((merchant.clone(), Presence::Online, 0));
            entry.2 += 1;
            entry.1
        };
        self.queue_changed(merchant);
        presence
    }

    pub fn agent_disconnected(&self, agent: AgentId, merchant: &MerchantId) {
        {
            let mut agents = self.agents.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = agents.get_mut(&agent) {
                entry.2 = entry.2.saturating_sub(1);
                if entry.2 == 0 {
                    agents.remove(&agent);
                }
            }
        }
        self.queue_changed(merchant);
    }

    pub fn set_presence(&self, agent: AgentId, merchant: &MerchantId, presence: Presence) {
        {
            let mut agents = self.agents.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = agents.get_mut(&agent) {
                entry.1 = presence;
            }
        }
        self.queue_changed(merchant);
    }

    /// Agents of `merchant` connected and online.
    pub fn online_agents(&self, merchant: &MerchantId) -> usize {
        let agents = self.agents.lock().unwrap_or_else(|e| e.into_inner());
        agents.values().filter(|(m, presence, _)| m == merchant && *presence == Presence::Online).count()
    }
}
