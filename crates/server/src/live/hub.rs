use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use tandem_protocol::{ChatMessage, ConversationId, Note, OfferEnd, Rating, Seq};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::store::AgentId;

/// Which side of a conversation caused an event; sessions skip echoes of their own side.
pub use crate::store::Side;

/// What happened in a conversation, after it was committed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LiveEvent {
    Message(ChatMessage),
    /// Messages up to `seq` are in the database: a session that has not sent them reads them
    /// from there. Another instance's messages arrive so (a wake-up, never the text), and so
    /// does "something may have been missed" after this instance stopped hearing the others.
    Committed {
        seq: Seq,
    },
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
    /// An agent stored an internal note: for the merchant's consoles only, never the customer's.
    Note(Note),
    /// Another instance stored a note: the consoles that follow the chat read its notes again
    /// (a note's text never crosses between instances).
    Noted,
}

/// What dispatch tells one agent, on every console they have open.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Notices may have been missed (this instance stopped hearing the others for a while):
    /// the console reads the offer open to the agent again.
    Missed,
}

/// What one instance's hub tells the others (see `crate::cluster`): every event and notice
/// published here, a message reduced to its `seq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Crossing {
    Conversation { id: ConversationId, event: LiveEvent },
    Agent { agent: AgentId, notice: AgentNotice },
}

/// Room for crossings the cluster has not sent yet; past it they are dropped (and counted),
/// which delays other instances' sessions until their next wake-up or catch-up, never loses
/// what is stored.
const CROSSINGS_QUEUED: usize = 4096;

/// Notices an agent's console has not read yet; offers are rare, so a few suffice.
const NOTICES_PER_AGENT: usize = 16;

/// Room for events a slow session has not read yet; past it the session is told it lagged and
/// reloads from the database.
const EVENTS_PER_CONVERSATION: usize = 64;

/// Broadcast channels by key, created by the first subscriber and removed when the last one
/// leaves (its [`Subscription`] is dropped, however the session ends).
///
/// The lock is held only to look up, insert or remove a channel, never across an `.await`.
struct Topics<K, E> {
    channels: Arc<Mutex<HashMap<K, broadcast::Sender<E>>>>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, E: Clone> Topics<K, E> {
    fn new(capacity: usize) -> Self {
        Self { channels: Arc::default(), capacity }
    }

    fn subscribe(&self, key: &K) -> Subscription<K, E> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let receiver =
            channels.entry(key.clone()).or_insert_with(|| broadcast::channel(self.capacity).0).subscribe();
        Subscription { receiver, leaving: Leaving { channels: self.channels.clone(), key: key.clone() } }
    }

    /// Drops the channels nobody listens to any more: a backstop for [`Leaving`].
    fn prune(&self) {
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, sender| sender.receiver_count() > 0);
    }

    fn keys(&self) -> Vec<K> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect()
    }

    fn len(&self) -> usize {
        self.channels.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn publish(&self, key: &K, event: E) {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = channels.get(key) {
            let _ = sender.send(event);
        }
    }
}

/// One session's place on a channel: its receiver, and on drop the channel's removal when it
/// was the last.
pub struct Subscription<K: Eq + Hash, E> {
    receiver: broadcast::Receiver<E>,
    /// Declared after the receiver, so dropped after it: the count it checks no longer has it.
    leaving: Leaving<K, E>,
}

impl<K: Eq + Hash, E: Clone> Subscription<K, E> {
    pub async fn recv(&mut self) -> Result<E, broadcast::error::RecvError> {
        self.receiver.recv().await
    }
}

impl<K: Eq + Hash + Send + Unpin + 'static, E: Clone + Send + 'static> Subscription<K, E> {
    /// The events as a stream (for a `StreamMap` of chats); leaving when the stream is dropped.
    pub fn into_stream(self) -> Events<K, E> {
        Events { stream: BroadcastStream::new(self.receiver), _leaving: self.leaving }
    }
}

/// [`Subscription::into_stream`].
pub struct Events<K: Eq + Hash, E> {
    stream: BroadcastStream<E>,
    _leaving: Leaving<K, E>,
}

impl<K: Eq + Hash + Unpin, E: Clone + Send + 'static> futures_util::Stream for Events<K, E> {
    type Item = Result<E, BroadcastStreamRecvError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::pin::Pin::new(&mut self.get_mut().stream).poll_next(cx)
    }
}

struct Leaving<K: Eq + Hash, E> {
    channels: Arc<Mutex<HashMap<K, broadcast::Sender<E>>>>,
    key: K,
}

impl<K: Eq + Hash, E> Drop for Leaving<K, E> {
    fn drop(&mut self) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if channels.get(&self.key).is_some_and(|sender| sender.receiver_count() == 0) {
            channels.remove(&self.key);
        }
    }
}

/// A session's conversation events.
pub type ChatEvents = Subscription<ConversationId, LiveEvent>;
/// A console's dispatch notices.
pub type Notices = Subscription<AgentId, AgentNotice>;

/// Fan-out of live events between the sessions of one server process, and, when it runs
/// beside others on one PostgreSQL, to theirs through the cluster.
pub struct Hub {
    conversations: Topics<ConversationId, LiveEvent>,
    /// Dispatch notices per agent, for each console they have open.
    agents: Topics<AgentId, AgentNotice>,
    /// Set once, by `crate::cluster`, when there are other instances to tell.
    uplink: OnceLock<mpsc::Sender<Crossing>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            conversations: Topics::new(EVENTS_PER_CONVERSATION),
            agents: Topics::new(NOTICES_PER_AGENT),
            uplink: OnceLock::new(),
        }
    }
}

impl Hub {
    pub fn subscribe(&self, conversation: &ConversationId) -> ChatEvents {
        self.conversations.subscribe(conversation)
    }

    /// Tells this instance's sessions, then the other instances'.
    pub fn publish(&self, conversation: &ConversationId, event: LiveEvent) {
        let crossing = match &event {
            LiveEvent::Message(message) => LiveEvent::Committed { seq: message.seq },
            LiveEvent::Note(_) => LiveEvent::Noted,
            other => other.clone(),
        };
        self.conversations.publish(conversation, event);
        self.cross(Crossing::Conversation { id: conversation.clone(), event: crossing });
    }

    pub fn agent_notices(&self, agent: AgentId) -> Notices {
        self.agents.subscribe(&agent)
    }

    /// Tells the agent's consoles on this instance, then on the others.
    pub fn notify_agent(&self, agent: AgentId, notice: AgentNotice) {
        self.agents.publish(&agent, notice.clone());
        self.cross(Crossing::Agent { agent, notice });
    }

    /// What another instance published: for this instance's sessions only.
    pub fn arrived(&self, crossing: Crossing) {
        match crossing {
            Crossing::Conversation { id, event } => self.conversations.publish(&id, event),
            Crossing::Agent { agent, notice } => self.agents.publish(&agent, notice),
        }
    }

    /// Every session here may have missed what other instances published (this instance was
    /// not listening): each reads what it needs from the database again.
    pub fn missed(&self) {
        for id in self.conversations.keys() {
            self.conversations.publish(&id, LiveEvent::Committed { seq: Seq::MAX });
        }
        for agent in self.agents.keys() {
            self.agents.publish(&agent, AgentNotice::Missed);
        }
    }

    /// From now on, what is published here is also queued for the other instances, on the
    /// receiver returned (`None` if the hub is linked already).
    pub fn link(&self) -> Option<mpsc::Receiver<Crossing>> {
        let (uplink, crossings) = mpsc::channel(CROSSINGS_QUEUED);
        self.uplink.set(uplink).ok().map(|()| crossings)
    }

    /// A full queue drops the crossing: see [`CROSSINGS_QUEUED`].
    fn cross(&self, crossing: Crossing) {
        if let Some(uplink) = self.uplink.get()
            && uplink.try_send(crossing).is_err()
        {
            tracing::warn!("the other instances were not told of a live event: the cluster lags");
        }
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
