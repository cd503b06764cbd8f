//! The agent console's WebSocket: `GET /v1/agent/live`, authenticated by the session cookie.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream, StreamExt};
use tandem_protocol::{
    AgentEvent, AgentFrame, Author, ConversationDetail, ConversationId, ConversationStatus, ErrorCode,
    MAX_CLIENT_ID_BYTES, Presence, QueueEntry, Seq, validate_text,
};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::wire::{Incoming, close, next_frame, send};
use super::{LiveEvent, Side, now_ms};
use crate::AppState;
use crate::store::{Agent, Conversation, NewMessage, StoreError};

/// How many lines of the bot conversation the queue shows.
const PREVIEW_LINES: usize = 3;

/// The conversation as an agent sees it, with every message so far.
pub async fn detail(state: &AppState, conversation: Conversation) -> Result<ConversationDetail, StoreError> {
    let messages = state.store.messages_after(&conversation.id, 0).await?;
    Ok(ConversationDetail {
        conversation_id: conversation.id,
        status: conversation.status,
        locale: conversation.locale,
        page_url: conversation.page_url,
        reason: conversation.reason,
        escalation: conversation.escalation,
        transcript: conversation.transcript,
        messages,
        customer: conversation.customer,
        rating: conversation.rating,
    })
}

struct Session<W> {
    state: AppState,
    agent: Agent,
    ip: Option<IpAddr>,
    /// Live events of the conversations this agent handles.
    chats: StreamMap<ConversationId, BroadcastStream<LiveEvent>>,
    /// Per conversation, the highest sequence delivered on this connection.
    sent_up_to: HashMap<ConversationId, Seq>,
    /// Ended conversations still followed for the customer's rating: nothing more may be done
    /// in them.
    ended: std::collections::HashSet<ConversationId>,
    tx: W,
}

pub async fn run<W, R>(state: AppState, agent: Agent, ip: Option<IpAddr>, tx: W, mut rx: R)
where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let presence = state.hub.agent_connected(agent.id, &agent.merchant_id);
    let mut queue_changes = state.hub.watch_queue(&agent.merchant_id);
    let mut shutdown = state.shutting_down();
    let mut session = Session {
        state,
        agent,
        ip,
        chats: StreamMap::new(),
        sent_up_to: HashMap::new(),
        ended: std::collections::HashSet::new(),
        tx,
    };

    if session.welcome(presence).await && session.send_queue().await {
        loop {
            let carry_on = tokio::select! {
                incoming = next_frame::<_, AgentFrame>(&mut rx) => match incoming {
                    Incoming::Frame(frame) => session.handle(frame).await,
                    Incoming::Invalid(code, message) => session.error(code, &message, None).await,
                    Incoming::Closed => false,
                },
                Some((id, event)) = session.chats.next() => match event {
                    Ok(event) => session.forward(id, event).await,
                    Err(BroadcastStreamRecvError::Lagged(_)) => session.catch_up(&id).await,
                },
                Ok(()) = queue_changes.changed() => session.send_queue().await,
                _ = shutdown.changed() => false,
            };
            if !carry_on {
                break;
            }
        }
    }
    close(&mut session.tx).await;
    session.state.hub.agent_disconnected(session.agent.id, &session.agent.merchant_id);
}

impl<W: Sink<Message> + Unpin> Session<W> {
    async fn error(
        &mut self,
        code: ErrorCode,
        message: &str,
        conversation_id: Option<ConversationId>,
    ) -> bool {
        let event = AgentEvent::Error { code, message: message.to_owned(), conversation_id };
        send(&mut self.tx, &event).await
    }

    async fn internal(&mut self, error: &StoreError) -> bool {
        tracing::error!(%error, "agent session failed");
        self.error(ErrorCode::Internal, "the server could not complete this; reconnect shortly", None).await;
        false
    }

    /// Subscribes to a conversation before its backlog is read, so nothing falls in between.
    fn follow(&mut self, id: &ConversationId, delivered: Seq) {
        self.chats.insert(id.clone(), BroadcastStream::new(self.state.hub.subscribe(id)));
        self.sent_up_to.insert(id.clone(), delivered);
    }

    fn unfollow(&mut self, id: &ConversationId) {
        self.chats.remove(id);
        self.sent_up_to.remove(id);
        self.ended.remove(id);
    }

    async fn welcome(&mut self, presence: Presence) -> bool {
        let conversations = match self.state.store.agent_conversations(self.agent.id).await {
            Ok(conversations) => conversations,
            Err(error) => return self.internal(&error).await,
        };
        let mut chats = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            let id = conversation.id.clone();
            self.follow(&id, 0);
            match detail(&self.state, conversation).await {
                Ok(detail) => {
                    self.sent_up_to.insert(id, detail.messages.last().map_or(0, |m| m.seq));
                    chats.push(detail);
                }
                Err(error) => return self.internal(&error).await,
            }
        }
        let welcome = AgentEvent::Welcome { name: self.agent.display_name.clone(), presence, chats };
        send(&mut self.tx, &welcome).await
    }

    async fn send_queue(&mut self) -> bool {
        let queue = match self.state.store.queue(&self.agent.merchant_id).await {
            Ok(queue) => queue,
            Err(error) => return self.internal(&error).await,
        };
        let entries = queue
            .into_iter()
            .map(|c| QueueEntry {
                preview: c.transcript[c.transcript.len().saturating_sub(PREVIEW_LINES)..].to_vec(),
                conversation_id: c.id,
                waiting_since_ms: c.queued_at_ms,
                locale: c.locale,
                reason: c.reason,
                escalation: c.escalation,
            })
            .collect();
        send(&mut self.tx, &AgentEvent::Queue { entries }).await
    }

    async fn catch_up(&mut self, id: &ConversationId) -> bool {
        let after = self.sent_up_to.get(id).copied().unwrap_or(0);
        let missed = match self.state.store.messages_after(id, after).await {
            Ok(missed) => missed,
            Err(error) => return self.internal(&error).await,
        };
        for message in missed {
            self.sent_up_to.insert(id.clone(), message.seq);
            if !send(&mut self.tx, &AgentEvent::Message { conversation_id: id.clone(), message }).await {
                return false;
            }
        }
        true
    }

    /// Whether this agent handles `id` now; answers the client with an error when not.
    async fn handles(&mut self, id: &ConversationId) -> Option<bool> {
        if self.ended.contains(id) {
            let message = "this conversation has ended";
            return self
                .error(ErrorCode::ConversationEnded, message, Some(id.clone()))
                .await
                .then_some(false);
        }
        if self.chats.contains_key(id) {
            return Some(true);
        }
        let message = "this is not a conversation you handle";
        self.error(ErrorCode::NotAllowed, message, Some(id.clone())).await.then_some(false)
    }

    async fn handle(&mut self, frame: AgentFrame) -> bool {
        match frame {
            AgentFrame::SetPresence { presence } => {
                self.state.hub.set_presence(self.agent.id, &self.agent.merchant_id, presence);
                send(&mut self.tx, &AgentEvent::Presence { presence }).await
            }
            AgentFrame::Accept { conversation_id } => self.accept(conversation_id).await,
            AgentFrame::Send { conversation_id, client_id, text } => {
                match self.handles(&conversation_id).await {
                    Some(true) => {}
                    Some(false) => return true,
                    None => return false,
                }
                if client_id.0.is_empty() || client_id.0.len() > MAX_CLIENT_ID_BYTES {
                    let message = "a client id has 1 to 64 bytes";
                    return self.error(ErrorCode::MalformedFrame, message, Some(conversation_id)).await;
                }
                if let Err(problem) = validate_text(&text) {
                    return self.error(ErrorCode::InvalidMessage, problem, Some(conversation_id)).await;
                }
                if !self.state.limits.allow_message(&format!("agent:{}", self.agent.id), self.ip) {
                    let message = "too many messages; wait a moment and resend with the same client id";
                    return self.error(ErrorCode::RateLimited, message, Some(conversation_id)).await;
                }
                let new = NewMessage {
                    conversation_id: conversation_id.clone(),
                    client_id: client_id.clone(),
                    author: Author::Agent { name: self.agent.display_name.clone() },
                    text,
                    now_ms: now_ms(),
                };
                match self.state.store.append_message(&new).await {
                    Ok(message) => {
                        let ack = AgentEvent::Ack {
                            conversation_id: conversation_id.clone(),
                            client_id,
                            seq: message.seq,
                        };
                        let sent = send(&mut self.tx, &ack).await;
                        self.state.hub.publish(&conversation_id, LiveEvent::Message(message));
                        sent
                    }
                    Err(error) => self.internal(&error).await,
                }
            }
            AgentFrame::Typing { conversation_id, typing } => {
                if self.chats.contains_key(&conversation_id) {
                    self.state.hub.publish(&conversation_id, LiveEvent::Typing { from: Side::Agent, typing });
                }
                true
            }
            AgentFrame::Read { conversation_id, seq } => {
                if self.chats.contains_key(&conversation_id) {
                    self.state.hub.publish(&conversation_id, LiveEvent::Read { from: Side::Agent, seq });
                }
                true
            }
            AgentFrame::End { conversation_id } => {
                match self.handles(&conversation_id).await {
                    Some(true) => {}
                    Some(false) => return true,
                    None => return false,
                }
                match self.state.store.end(&conversation_id, now_ms()).await {
                    Ok(true) => {}
                    // Already ended (by the customer, a moment ago): their `ended` is on its way.
                    Ok(false) => return true,
                    Err(error) => return self.internal(&error).await,
                }
                // Still followed: `Ended` comes back through the hub like the customer's end,
                // and the customer's rating after it.
                self.state.hub.publish(&conversation_id, LiveEvent::Ended);
                true
            }
            AgentFrame::Requeue { conversation_id } => {
                match self.handles(&conversation_id).await {
                    Some(true) => {}
                    Some(false) => return true,
                    None => return false,
                }
                match self.state.store.requeue(&conversation_id, self.agent.id, now_ms()).await {
                    Ok(_) => {}
                    Err(error) => return self.internal(&error).await,
                }
                self.unfollow(&conversation_id);
                let name = self.agent.display_name.clone();
                self.state.hub.publish(&conversation_id, LiveEvent::AgentLeft { name });
                self.state.hub.queue_changed(&self.agent.merchant_id);
                send(&mut self.tx, &AgentEvent::Ended { conversation_id }).await
            }
            AgentFrame::Resume { conversation_id, last_seq } => {
                match self.handles(&conversation_id).await {
                    Some(true) => {}
                    Some(false) => return true,
                    None => return false,
                }
                self.sent_up_to.insert(conversation_id.clone(), last_seq);
                self.catch_up(&conversation_id).await
            }
        }
    }

    async fn accept(&mut self, id: ConversationId) -> bool {
        let conversation = match self.state.store.conversation(&id).await {
            Ok(Some(conversation)) if conversation.merchant_id == self.agent.merchant_id => conversation,
            Ok(_) => {
                return self
                    .error(ErrorCode::NotAllowed, "no such conversation in your queue", Some(id))
                    .await;
            }
            Err(error) => return self.internal(&error).await,
        };
        match self.state.store.accept(&id, self.agent.id).await {
            Ok(true) => {}
            Ok(false) => {
                let message = match conversation.status {
                    ConversationStatus::Ended => "the customer has left",
                    _ => "another agent took this conversation first",
                };
                return self.error(ErrorCode::AlreadyTaken, message, Some(id)).await;
            }
            Err(error) => return self.internal(&error).await,
        }
        self.follow(&id, 0);
        let conversation = Conversation {
            status: ConversationStatus::Active,
            agent_id: Some(self.agent.id),
            ..conversation
        };
        let detail = match detail(&self.state, conversation).await {
            Ok(detail) => detail,
            Err(error) => return self.internal(&error).await,
        };
        self.sent_up_to.insert(id.clone(), detail.messages.last().map_or(0, |m| m.seq));
        let name = self.agent.display_name.clone();
        self.state.hub.publish(&id, LiveEvent::AgentJoined { name });
        self.state.hub.queue_changed(&self.agent.merchant_id);
        send(&mut self.tx, &AgentEvent::Accepted { conversation: detail }).await
    }

    async fn forward(&mut self, id: ConversationId, event: LiveEvent) -> bool {
        let outgoing = match event {
            LiveEvent::Message(message) => {
                let delivered = self.sent_up_to.get(&id).copied().unwrap_or(0);
                if message.seq <= delivered {
                    return true;
                }
                if message.seq > delivered + 1 {
                    return self.catch_up(&id).await;
                }
                self.sent_up_to.insert(id.clone(), message.seq);
                AgentEvent::Message { conversation_id: id, message }
            }
            LiveEvent::Typing { from: Side::Customer, typing } => {
                AgentEvent::Typing { conversation_id: id, typing }
            }
            LiveEvent::Read { from: Side::Customer, seq } => AgentEvent::Read { conversation_id: id, seq },
            // Still followed after it ends, for the customer's rating; then let go.
            LiveEvent::Ended => {
                self.ended.insert(id.clone());
                AgentEvent::Ended { conversation_id: id }
            }
            LiveEvent::Rated(rating) => {
                self.unfollow(&id);
                AgentEvent::Rated { conversation_id: id, rating }
            }
            LiveEvent::Typing { from: Side::Agent, .. }
            | LiveEvent::Read { from: Side::Agent, .. }
            | LiveEvent::AgentJoined { .. }
            | LiveEvent::AgentLeft { .. } => return true,
        };
        send(&mut self.tx, &outgoing).await
    }
}
