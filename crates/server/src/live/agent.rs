//! The agent console's WebSocket: `GET /v1/agent/live`, authenticated by the session cookie.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream, StreamExt};
use tandem_protocol::{
    AgentEvent, AgentFrame, Author, ConversationDetail, ConversationId, ConversationStatus, ErrorCode,
    Presence, Seq,
};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use tandem_dispatch::Refusal;
use tokio::sync::broadcast::error::RecvError;

use super::wire::{Incoming, close, next_frame, send, send_text};
use super::{AgentNotice, LiveEvent, Side, now_ms};
use crate::AppState;
use crate::service::{self, Ending, NotStored, Post};
use crate::store::{Agent, Conversation, StoreError};

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
    /// The offer shown on this connection, so that the notice of one already shown at connect
    /// is not shown twice.
    shown_offer: Option<(ConversationId, i64)>,
    /// The merchant's queue snapshots (see `crate::queue`).
    queue: crate::queue::AgentWatch,
    tx: W,
}

/// Tells the console why the session cannot go on, and closes it.
async fn refuse<W: Sink<Message> + Unpin>(tx: &mut W, code: ErrorCode, message: &str) {
    send(tx, &AgentEvent::Error { code, message: message.to_owned(), conversation_id: None }).await;
    close(tx).await;
}

pub async fn run<W, R>(state: AppState, agent: Agent, ip: Option<IpAddr>, mut tx: W, mut rx: R)
where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    // Subscribed before connecting, so that an offer made at once is not missed.
    let mut notices = state.hub.agent_notices(agent.id);
    let profile = agent.dispatch_profile();
    let connected = state
        .dispatch
        .change(&state, &agent.merchant_id, |d, now| {
            let notices = d.connect(profile, now);
            let presence = d.presence(agent.id).unwrap_or(Presence::Online);
            ((presence, d.offer_of(agent.id)), notices)
        })
        .await;
    let (presence, offer) = match connected {
        Ok(connected) => connected,
        Err(error) => {
            tracing::error!(%error, "agent could not join dispatch");
            let message = "the server could not complete this; reconnect shortly";
            return refuse(&mut tx, ErrorCode::Internal, message).await;
        }
    };
    // Deactivated between signing in and joining (and so before the notice could reach this
    // session): leave at once.
    if !matches!(state.store.agent(agent.id).await, Ok(Some(current)) if current.active) {
        let id = agent.id;
        let _ = state.dispatch.change(&state, &agent.merchant_id, |d, now| ((), d.disconnect(id, now))).await;
        return refuse(&mut tx, ErrorCode::Unauthorized, "this account is not active; sign in again").await;
    }
    let queue = state.queues.watch_agents(&state, &agent.merchant_id).await;
    let mut shutdown = state.shutting_down();
    let mut session = Session {
        state,
        agent,
        ip,
        chats: StreamMap::new(),
        sent_up_to: HashMap::new(),
        ended: std::collections::HashSet::new(),
        shown_offer: None,
        queue,
        tx,
    };

    let mut ready = session.welcome(presence).await && session.send_queue().await;
    if ready && let Some((conversation, expires_at_ms)) = offer {
        ready = session.offer(conversation, expires_at_ms).await;
    }
    if ready {
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
                Ok(()) = session.queue.changed() => session.send_queue().await,
                notice = notices.recv() => match notice {
                    Ok(notice) => session.notice(notice).await,
                    // Missed notices: the queue snapshot still shows every waiting customer.
                    Err(RecvError::Lagged(_)) => session.catch_up_on_dispatch().await,
                    Err(RecvError::Closed) => false,
                },
                _ = shutdown.changed() => false,
            };
            if !carry_on {
                break;
            }
        }
    }
    close(&mut session.tx).await;
    let (state, agent) = (&session.state, session.agent.id);
    if let Err(error) = state
        .dispatch
        .change(state, &session.agent.merchant_id, |d, now| ((), d.disconnect(agent, now)))
        .await
    {
        tracing::error!(%error, "agent could not leave dispatch");
    }
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

    /// The merchant's queue as of its latest snapshot (computed once for every console).
    async fn send_queue(&mut self) -> bool {
        let frame = self.queue.borrow_and_update().clone();
        match frame {
            Some(frame) => send_text(&mut self.tx, frame).await,
            None => true,
        }
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
            // Another console of this agent may have passed it on meanwhile.
            let (agent, merchant) = (self.agent.id, self.agent.merchant_id.clone());
            match self.state.dispatch.read(&self.state, &merchant, |d, _| d.has_chat(agent, id)).await {
                Ok(true) => return Some(true),
                Ok(false) => self.unfollow(id),
                Err(error) => return self.internal(&error).await.then_some(false),
            }
        }
        let message = "this is not a conversation you handle";
        self.error(ErrorCode::NotAllowed, message, Some(id.clone())).await.then_some(false)
    }

    async fn handle(&mut self, frame: AgentFrame) -> bool {
        match frame {
            AgentFrame::SetPresence { presence } => {
                let agent = self.agent.id;
                let changed = self.state.dispatch.change(&self.state, &self.agent.merchant_id, |d, now| {
                    ((), d.set_presence(agent, presence, now))
                });
                if let Err(error) = changed.await {
                    return self.internal(&error).await;
                }
                send(&mut self.tx, &AgentEvent::Presence { presence }).await
            }
            AgentFrame::Decline { conversation_id } => {
                let agent = self.agent.id;
                let declined = self.state.dispatch.change(&self.state, &self.agent.merchant_id, |d, now| {
                    ((), d.decline(agent, &conversation_id, now))
                });
                match declined.await {
                    Ok(()) => true,
                    Err(error) => self.internal(&error).await,
                }
            }
            AgentFrame::Transfer { conversation_id, to_agent } => {
                self.give_back(conversation_id, Some(to_agent)).await
            }
            AgentFrame::HandToBot { conversation_id } => self.hand_to_bot(conversation_id).await,
            AgentFrame::Accept { conversation_id } => self.accept(conversation_id).await,
            AgentFrame::Send { conversation_id, client_id, text } => {
                match self.handles(&conversation_id).await {
                    Some(true) => {}
                    Some(false) => return true,
                    None => return false,
                }
                let post = Post {
                    conversation: conversation_id.clone(),
                    client_id: client_id.clone(),
                    author: Author::Agent { name: self.agent.display_name.clone() },
                    text,
                    sender: format!("agent:{}", self.agent.id),
                    ip: self.ip,
                };
                match service::post_message(&self.state, post).await {
                    Ok(message) => {
                        let ack = AgentEvent::Ack { conversation_id, client_id, seq: message.seq };
                        send(&mut self.tx, &ack).await
                    }
                    Err(NotStored::Refused(code, message)) => {
                        self.error(code, message, Some(conversation_id)).await
                    }
                    Err(NotStored::Store(error)) => self.internal(&error).await,
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
                // Still followed: `Ended` comes back through the hub (now, or from the customer's
                // end a moment ago), and the customer's rating after it.
                let ending = Ending::Ended;
                match service::end(&self.state, &self.agent.merchant_id, &conversation_id, ending).await {
                    Ok(_) => true,
                    Err(error) => self.internal(&error).await,
                }
            }
            AgentFrame::Requeue { conversation_id } => self.give_back(conversation_id, None).await,
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

    /// Shows the agent a customer offered to them alone.
    async fn offer(&mut self, id: ConversationId, expires_at_ms: i64) -> bool {
        let shown = Some((id.clone(), expires_at_ms));
        if self.shown_offer == shown {
            return true;
        }
        self.shown_offer = shown;
        // A notice read late (after the agent answered, or after the offer moved on) is stale.
        let agent = self.agent.id;
        let current = self
            .state
            .dispatch
            .read(&self.state, &self.agent.merchant_id, |d, _| (d.offer_of(agent), d.settings()))
            .await;
        let timeout_secs = match current {
            Ok((Some((offered, _)), settings)) if offered == id => {
                u32::try_from(settings.offer_timeout_ms / 1000).unwrap_or(u32::MAX)
            }
            Ok(_) => return true,
            Err(error) => return self.internal(&error).await,
        };
        let conversation = match self.state.store.conversation(&id).await {
            Ok(Some(conversation)) => conversation,
            Ok(None) => return true,
            Err(error) => return self.internal(&error).await,
        };
        let offer = crate::queue::queue_entry(conversation);
        send(&mut self.tx, &AgentEvent::Offer { offer, expires_at_ms, timeout_secs }).await
    }

    /// After missed notices: the queue as it is, and the offer open now, if any.
    async fn catch_up_on_dispatch(&mut self) -> bool {
        let agent = self.agent.id;
        let offer =
            self.state.dispatch.read(&self.state, &self.agent.merchant_id, |d, _| d.offer_of(agent)).await;
        let offered = match offer {
            Ok(Some((conversation, expires_at_ms))) => self.offer(conversation, expires_at_ms).await,
            Ok(None) => true,
            Err(error) => return self.internal(&error).await,
        };
        offered && self.send_queue().await
    }

    async fn notice(&mut self, notice: AgentNotice) -> bool {
        match notice {
            AgentNotice::Offered { conversation, expires_at_ms } => {
                self.offer(conversation, expires_at_ms).await
            }
            AgentNotice::OfferEnded { conversation, reason } => {
                send(&mut self.tx, &AgentEvent::OfferEnded { conversation_id: conversation, reason }).await
            }
            AgentNotice::WentAway => {
                let read =
                    self.state.dispatch.read(&self.state, &self.agent.merchant_id, |d, _| d.settings());
                let missed_offers = read.await.map(|s| s.missed_offers_before_away).unwrap_or_default();
                send(&mut self.tx, &AgentEvent::SetAway { missed_offers }).await
                    && send(&mut self.tx, &AgentEvent::Presence { presence: Presence::Away }).await
            }
            AgentNotice::ChatReturned { conversation } => {
                if !self.chats.contains_key(&conversation) {
                    return true; // This console passed it on itself.
                }
                self.unfollow(&conversation);
                send(&mut self.tx, &AgentEvent::Ended { conversation_id: conversation }).await
            }
            AgentNotice::Deactivated => {
                let message = "an admin deactivated your account";
                self.error(ErrorCode::Unauthorized, message, None).await;
                false
            }
        }
    }

    /// Puts the agent's chat back at the front of the queue, or hands it to a colleague (who is
    /// offered it first). The database changes before dispatch offers it, so whoever accepts
    /// finds it waiting.
    async fn give_back(&mut self, id: ConversationId, to: Option<i64>) -> bool {
        match self.handles(&id).await {
            Some(true) => {}
            Some(false) => return true,
            None => return false,
        }
        let me = self.agent.id;
        if let Some(target) = to {
            let free = self
                .state
                .dispatch
                .read(&self.state, &self.agent.merchant_id, |d, _| d.can_take_transfer(me, target))
                .await;
            match free {
                Ok(true) => {}
                Ok(false) => {
                    let message = "that colleague is not online with room for another chat";
                    return self.error(ErrorCode::Unavailable, message, Some(id)).await;
                }
                Err(error) => return self.internal(&error).await,
            }
        }
        match self.state.store.requeue(&id, me, now_ms()).await {
            Ok(_) => {}
            Err(error) => return self.internal(&error).await,
        }
        let given = self.state.dispatch.change(&self.state, &self.agent.merchant_id, |d, now| {
            let (result, mut notices) = d.give_back(me, &id, to, now);
            if result == Err(Refusal::TargetUnavailable) {
                // The colleague became busy a moment ago: the customer waits at the front instead.
                let (_, more) = d.give_back(me, &id, None, now);
                notices.extend(more);
            }
            ((), notices)
        });
        if let Err(error) = given.await {
            return self.internal(&error).await;
        }
        self.unfollow(&id);
        // The agent's other consoles drop it too.
        self.state.hub.notify_agent(self.agent.id, AgentNotice::ChatReturned { conversation: id.clone() });
        let name = self.agent.display_name.clone();
        self.state.hub.publish(&id, LiveEvent::AgentLeft { name });
        send(&mut self.tx, &AgentEvent::Ended { conversation_id: id }).await
    }

    /// The customer goes back to the bot: the conversation with a person ends, unrated.
    async fn hand_to_bot(&mut self, id: ConversationId) -> bool {
        match self.handles(&id).await {
            Some(true) => {}
            Some(false) => return true,
            None => return false,
        }
        if let Err(error) = service::end(&self.state, &self.agent.merchant_id, &id, Ending::BackToBot).await {
            return self.internal(&error).await;
        }
        self.unfollow(&id);
        self.state.hub.notify_agent(self.agent.id, AgentNotice::ChatReturned { conversation: id.clone() });
        send(&mut self.tx, &AgentEvent::Ended { conversation_id: id }).await
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
        // Dispatch decides first (one winner per process, capacity respected); the database's
        // compare-and-set then records it.
        let agent = self.agent.id;
        let claimed = self
            .state
            .dispatch
            .change(&self.state, &self.agent.merchant_id, |d, now| d.accept(agent, &id, now));
        match claimed.await {
            Ok(Ok(())) => {}
            Ok(Err(Refusal::AtCapacity)) => {
                let message = "you already have as many chats as you can take; end one first";
                return self.error(ErrorCode::AtCapacity, message, Some(id)).await;
            }
            Ok(Err(_)) => {
                let message = match conversation.status {
                    ConversationStatus::Ended => "the customer has left",
                    _ => "another agent took this conversation first",
                };
                return self.error(ErrorCode::AlreadyTaken, message, Some(id)).await;
            }
            Err(error) => return self.internal(&error).await,
        }
        match self.state.store.accept(&id, self.agent.id, now_ms()).await {
            Ok(true) => {}
            Ok(false) => {
                // The database disagrees (the customer left a moment ago, or a return to the
                // queue was not recorded): dispatch follows what the database says.
                let now_status = self.state.store.conversation(&id).await.ok().flatten().map(|c| c.status);
                let agent = self.agent.id;
                let settle = self.state.dispatch.change(&self.state, &self.agent.merchant_id, |d, now| {
                    let notices = if now_status == Some(ConversationStatus::Ended) {
                        d.end(&id, now)
                    } else {
                        tracing::error!(conversation = %id, "accepted in dispatch but not waiting in the database");
                        d.give_back(agent, &id, None, now).1
                    };
                    ((), notices)
                });
                if let Err(error) = settle.await {
                    return self.internal(&error).await;
                }
                let message = match now_status {
                    Some(ConversationStatus::Ended) => "the customer has left",
                    _ => "another agent took this conversation first",
                };
                return self.error(ErrorCode::AlreadyTaken, message, Some(id)).await;
            }
            Err(error) => {
                // Not recorded: the customer goes back to the front of the queue, not lost.
                let agent = self.agent.id;
                let _ = self
                    .state
                    .dispatch
                    .change(&self.state, &self.agent.merchant_id, |d, now| {
                        ((), d.give_back(agent, &id, None, now).1)
                    })
                    .await;
                return self.internal(&error).await;
            }
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
        // The agent's other consoles may still show it as an offer.
        let reason = tandem_protocol::OfferEnd::Withdrawn;
        self.state
            .hub
            .notify_agent(self.agent.id, AgentNotice::OfferEnded { conversation: id.clone(), reason });
        let name = self.agent.display_name.clone();
        self.state.hub.publish(&id, LiveEvent::AgentJoined { name });
        self.state.queues.changed(&self.state, &self.agent.merchant_id);
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
            | LiveEvent::BackToBot
            | LiveEvent::Read { from: Side::Agent, .. }
            | LiveEvent::AgentJoined { .. }
            | LiveEvent::AgentLeft { .. } => return true,
        };
        send(&mut self.tx, &outgoing).await
    }
}
