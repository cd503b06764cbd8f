//! The agent console's WebSocket: `GET /v1/agent/live`, authenticated by the session cookie.
//!
//! The session reads a frame, asks the conversations service (`crate::service`) to carry it
//! out and writes the answer; besides, it relays the live events of the agent's chats, the
//! merchant's queue and dispatch's notices (offers) to the console.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream, StreamExt};
use tandem_protocol::{
    AgentEvent, AgentFrame, Author, ChatMessage, ClientMessageId, ConversationDetail, ConversationId,
    ErrorCode, Note, Presence, Seq,
};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Duration, Instant};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::backlog::{Backlog, Held, backlog};
use super::relay::Coalesced;
use super::seen::Seen;
use super::wire::{
    Handles, Heartbeat, Named, Step, Stop, answerable, finish, next_frame, on_beat, receive, send, send_text,
};
use super::{AgentNotice, LiveEvent, Side, hub, now_ms};
use crate::AppState;
use crate::service::{self, Ending, Outcome, Post, refused};
use crate::store::{Agent, ChatRef, Conversation, StoreError};

/// The conversation as an agent sees it, with every message so far.
pub async fn detail(state: &AppState, conversation: Conversation) -> Result<ConversationDetail, StoreError> {
    let messages = state.store.messages_after(&conversation.id, 0).await?;
    let notes = state.store.notes(&conversation.id).await?;
    let page_context = state.store.page_context(&conversation.id).await?;
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
        page_context,
        notes,
    })
}

struct Session<W> {
    state: AppState,
    agent: Agent,
    /// The sign-in session the console connected with (its token hash): the socket ends with it.
    signed_in: String,
    ip: Option<IpAddr>,
    /// Live events of the conversations this agent handles.
    chats: StreamMap<ConversationId, hub::Events<ConversationId, LiveEvent>>,
    /// Per conversation, the highest sequence delivered on this connection.
    sent_up_to: HashMap<ConversationId, Seq>,
    /// Per conversation, the ids of the notes delivered on this connection (notes stored at
    /// once, by two consoles or on two instances, may arrive out of id order).
    notes_sent: HashMap<ConversationId, HashSet<i64>>,
    /// Ended conversations still followed for the customer's rating: nothing more may be done
    /// in them.
    ended: HashSet<ConversationId>,
    /// The offer shown on this connection, so that the notice of one already shown at connect
    /// is not shown twice.
    shown_offer: Option<(ConversationId, i64)>,
    /// The merchant's queue snapshots (see `crate::queue`).
    queue: crate::queue::AgentWatch,
    /// The agent's typing and read receipts, per chat, on their way to the customers.
    relay: Coalesced<ConversationId>,
    seen: Seen,
    tx: W,
}

/// How often an open console's sign-in session is checked against the database.
const SESSION_RECHECK: Duration = Duration::from_secs(3);

/// What a frame's command answers, for the session to write.
enum Reply {
    Nothing,
    /// Boxed: events vary a lot in size, and most frames answer nothing.
    Event(Box<AgentEvent>),
    /// Send the conversation's messages after what the console holds.
    CatchUp(ConversationId, Held),
    /// A chat taken: its detail, then how far the customer had read it.
    Accepted(Box<ConversationDetail>),
}

impl Reply {
    fn event(event: AgentEvent) -> Self {
        Self::Event(Box::new(event))
    }
}

fn error_frame(code: ErrorCode, message: String) -> AgentEvent {
    AgentEvent::Error { code, message, conversation_id: None }
}

pub async fn run<W, R>(state: AppState, agent: Agent, signed_in: String, ip: Option<IpAddr>, mut tx: W, rx: R)
where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    // Subscribed before connecting, so that an offer made at once is not missed.
    let notices = state.hub.agent_notices(agent.id);
    let (presence, offer) = match service::connect(&state, &agent).await {
        Ok(joined) => joined,
        Err(failure) => return finish(&mut tx, failure.into(), error_frame).await,
    };
    let queue = state.queues.watch_agents(&state, &agent.merchant_id).await;
    let mut session = Session {
        state,
        agent,
        signed_in,
        ip,
        chats: StreamMap::new(),
        sent_up_to: HashMap::new(),
        notes_sent: HashMap::new(),
        ended: HashSet::new(),
        shown_offer: None,
        queue,
        relay: Coalesced::new(),
        seen: Seen::default(),
        tx,
    };
    let stop = match session.start(presence, offer).await {
        Ok(()) => session.serve(notices, rx).await,
        Err(stop) => stop,
    };
    finish(&mut session.tx, stop, error_frame).await;
    service::disconnect(&session.state, &session.agent).await;
}

/// The conversation a frame is about, named in the error frame that refuses it.
fn about(frame: &AgentFrame) -> Option<&ConversationId> {
    match frame {
        AgentFrame::SetPresence { .. } => None,
        AgentFrame::Accept { conversation_id }
        | AgentFrame::Decline { conversation_id }
        | AgentFrame::Send { conversation_id, .. }
        | AgentFrame::Typing { conversation_id, .. }
        | AgentFrame::Read { conversation_id, .. }
        | AgentFrame::End { conversation_id }
        | AgentFrame::Requeue { conversation_id }
        | AgentFrame::Transfer { conversation_id, .. }
        | AgentFrame::HandToBot { conversation_id }
        | AgentFrame::Note { conversation_id, .. }
        | AgentFrame::Resume { conversation_id, .. } => Some(conversation_id),
    }
}

impl<W: Sink<Message> + Unpin> Handles<AgentFrame> for Session<W> {
    async fn frame(&mut self, frame: AgentFrame) -> Step {
        self.handle(frame).await
    }

    async fn refused(&mut self, code: ErrorCode, message: &str, named: Named) -> Step {
        self.error(code, message, named.conversation_id).await
    }
}

impl<W: Sink<Message> + Unpin> Session<W> {
    /// The welcome (the agent's chats), the queue, and an offer already open.
    async fn start(&mut self, presence: Presence, offer: Option<(ConversationId, i64)>) -> Step {
        self.welcome(presence).await?;
        self.send_queue().await?;
        match offer {
            Some((conversation, expires_at_ms)) => self.offer(conversation, expires_at_ms).await,
            None => Ok(()),
        }
    }

    async fn serve<R>(&mut self, mut notices: hub::Notices, mut rx: R) -> Stop
    where
        R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        let mut shutdown = self.state.shutting_down();
        let mut recheck = tokio::time::interval_at(Instant::now() + SESSION_RECHECK, SESSION_RECHECK);
        let mut heartbeat = Heartbeat::new(self.state.live_timing);
        loop {
            let due = self.relay.due();
            let step = tokio::select! {
                incoming = next_frame::<_, AgentFrame>(&mut rx) => receive(self, &mut heartbeat, incoming).await,
                beat = heartbeat.beat() => on_beat(&mut self.tx, beat).await,
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    self.relay_now();
                    Ok(())
                }
                Some((id, event)) = self.chats.next() => match event {
                    Ok(event) => self.forward(id, event).await,
                    Err(BroadcastStreamRecvError::Lagged(_)) => self.catch_up(&id).await,
                },
                Ok(()) = self.queue.changed() => self.send_queue().await,
                notice = notices.recv() => match notice {
                    Ok(notice) => self.notice(notice).await,
                    // Missed notices: the queue snapshot still shows every waiting customer.
                    Err(RecvError::Lagged(_)) => self.catch_up_on_dispatch().await,
                    Err(RecvError::Closed) => Err(Stop::Closed),
                },
                _ = recheck.tick() => self.still_signed_in().await,
                _ = shutdown.changed() => Err(Stop::Closed),
            };
            if let Err(stop) = step {
                return stop;
            }
        }
    }

    /// A session that expired, or was deleted (a password reset, a deactivation by the command
    /// line, possibly in another process), ends its consoles' sockets too.
    async fn still_signed_in(&mut self) -> Step {
        match self.state.store.session_agent(&self.signed_in, now_ms()).await? {
            Some(agent) if agent.id == self.agent.id => Ok(()),
            _ => Err(Stop::Refused(ErrorCode::Unauthorized, "your session has ended; sign in again".into())),
        }
    }

    async fn send(&mut self, event: &AgentEvent) -> Step {
        send(&mut self.tx, event).await
    }

    async fn error(&mut self, code: ErrorCode, message: &str, about: Option<ConversationId>) -> Step {
        let event = AgentEvent::Error { code, message: message.to_owned(), conversation_id: about };
        self.send(&event).await
    }

    /// Carries out one frame and writes its answer: a refusal is an error frame about the
    /// frame's conversation, and the session carries on.
    async fn handle(&mut self, frame: AgentFrame) -> Step {
        let about = about(&frame).cloned();
        match self.apply(frame).await {
            Ok(Reply::Nothing) => Ok(()),
            Ok(Reply::Event(event)) => self.send(&event).await,
            Ok(Reply::CatchUp(id, held)) => self.resume(id, &held).await,
            Ok(Reply::Accepted(detail)) => {
                let id = detail.conversation_id.clone();
                self.send(&AgentEvent::Accepted { conversation: *detail }).await?;
                self.tell_read(&id).await
            }
            Err(failure) => {
                let (code, message) = answerable(failure)?;
                self.error(code, message, about).await
            }
        }
    }

    async fn apply(&mut self, frame: AgentFrame) -> Outcome<Reply> {
        let (state, agent) = (&self.state, &self.agent);
        match frame {
            AgentFrame::SetPresence { presence } => {
                service::set_presence(state, agent, presence).await?;
                Ok(Reply::event(AgentEvent::Presence { presence }))
            }
            AgentFrame::Decline { conversation_id } => {
                service::decline(state, agent, &conversation_id).await.map(|()| Reply::Nothing)
            }
            AgentFrame::Accept { conversation_id } => self.accept(conversation_id).await,
            AgentFrame::Typing { conversation_id, typing } if self.chats.contains_key(&conversation_id) => {
                self.relay.typing(conversation_id, typing);
                Ok(self.relay_now())
            }
            AgentFrame::Read { conversation_id, seq } if self.chats.contains_key(&conversation_id) => {
                let sent = self.sent_up_to.get(&conversation_id).copied().unwrap_or(0);
                let chat = ChatRef { merchant: &self.agent.merchant_id, id: &conversation_id };
                let store = self.state.store.as_ref();
                if let Some(seq) = self.seen.mark(store, chat, Side::Agent, seq, sent).await? {
                    self.relay.read(conversation_id, seq);
                }
                Ok(self.relay_now())
            }
            // About a chat this console does not follow: nobody to tell.
            AgentFrame::Typing { .. } | AgentFrame::Read { .. } => Ok(Reply::Nothing),
            in_chat => self.apply_in_chat(in_chat).await,
        }
    }

    /// The frames that act on one of the agent's chats, refused unless they handle it now.
    async fn apply_in_chat(&mut self, frame: AgentFrame) -> Outcome<Reply> {
        if let Some(id) = about(&frame) {
            self.handling(&id.clone()).await?;
        }
        let (state, agent) = (&self.state, &self.agent);
        match frame {
            AgentFrame::Send { conversation_id, client_id, text } => {
                self.post(conversation_id, client_id, text).await
            }
            // Still followed: `Ended` comes back through the hub (now, or from the customer's
            // end a moment ago), and the customer's rating after it.
            AgentFrame::End { conversation_id } => {
                service::end(state, &agent.merchant_id, &conversation_id, Ending::Ended).await?;
                Ok(Reply::Nothing)
            }
            AgentFrame::Requeue { conversation_id } => {
                service::requeue(state, agent, &conversation_id).await?;
                Ok(self.passed_on(conversation_id))
            }
            AgentFrame::Transfer { conversation_id, to_agent } => {
                service::transfer(state, agent, &conversation_id, to_agent).await?;
                Ok(self.passed_on(conversation_id))
            }
            AgentFrame::HandToBot { conversation_id } => {
                service::hand_to_bot(state, agent, &conversation_id).await?;
                Ok(self.passed_on(conversation_id))
            }
            AgentFrame::Resume { conversation_id, last_seq, last_client_id } => {
                Ok(Reply::CatchUp(conversation_id, Held { seq: last_seq, client_id: last_client_id }))
            }
            AgentFrame::Note { conversation_id, client_id, text } => {
                let note =
                    service::post_note(state, agent, &conversation_id, client_id, text, self.ip).await?;
                Ok(self.note_sent(conversation_id, note).map_or(Reply::Nothing, Reply::event))
            }
            // Carried out by `apply`.
            AgentFrame::SetPresence { .. }
            | AgentFrame::Decline { .. }
            | AgentFrame::Accept { .. }
            | AgentFrame::Typing { .. }
            | AgentFrame::Read { .. } => Ok(Reply::Nothing),
        }
    }

    /// Refuses a frame about a chat this agent does not handle now.
    async fn handling(&mut self, id: &ConversationId) -> Outcome<()> {
        if self.ended.contains(id) {
            return refused(ErrorCode::ConversationEnded, "this conversation has ended");
        }
        if self.chats.contains_key(id) {
            if service::handles(&self.state, &self.agent, id).await? {
                return Ok(());
            }
            self.unfollow(id);
        }
        refused(ErrorCode::NotAllowed, "this is not a conversation you handle")
    }

    async fn accept(&mut self, id: ConversationId) -> Outcome<Reply> {
        let conversation = service::accept(&self.state, &self.agent, &id).await?;
        let detail = self.follow(conversation).await?;
        Ok(Reply::Accepted(Box::new(detail)))
    }

    async fn post(&mut self, id: ConversationId, client_id: ClientMessageId, text: String) -> Outcome<Reply> {
        let post = Post {
            merchant: self.agent.merchant_id.clone(),
            conversation: id.clone(),
            client_id: client_id.clone(),
            author: Author::Agent { name: self.agent.display_name.clone() },
            text,
            sender: format!("agent:{}", self.agent.id),
            ip: self.ip,
        };
        let message = service::post_message(&self.state, post).await?;
        Ok(Reply::event(AgentEvent::Ack { conversation_id: id, client_id, seq: message.seq }))
    }

    /// A note for this console, unless it was already sent here (a note comes back through
    /// the hub after this console's own `note` was answered).
    fn note_sent(&mut self, id: ConversationId, note: Note) -> Option<AgentEvent> {
        let sent = self.notes_sent.entry(id.clone()).or_default();
        sent.insert(note.id).then_some(AgentEvent::Note { conversation_id: id, note })
    }

    /// Another instance stored a note: the chat's notes this console has not had.
    async fn catch_up_notes(&mut self, id: ConversationId) -> Step {
        for note in self.state.store.notes(&id).await? {
            if let Some(event) = self.note_sent(id.clone(), note) {
                self.send(&event).await?;
            }
        }
        Ok(())
    }

    /// Relays the typing and reading that waits, if its turn has come (see `super::relay`).
    fn relay_now(&mut self) -> Reply {
        self.relay.relay_due(&self.state.hub, Side::Agent);
        Reply::Nothing
    }

    fn passed_on(&mut self, id: ConversationId) -> Reply {
        Reply::event(self.let_go(id))
    }

    /// This console stops following a chat the agent passed on.
    fn let_go(&mut self, id: ConversationId) -> AgentEvent {
        self.unfollow(&id);
        AgentEvent::Ended { conversation_id: id }
    }

    /// Follows a conversation with everything in it so far: subscribed before its messages
    /// are read, so nothing falls in between (what comes twice is dropped by `seq`).
    async fn follow(&mut self, conversation: Conversation) -> Result<ConversationDetail, StoreError> {
        let id = conversation.id.clone();
        self.chats.insert(id.clone(), self.state.hub.subscribe(&id).into_stream());
        let detail = detail(&self.state, conversation).await?;
        self.sent_up_to.insert(id.clone(), detail.messages.last().map_or(0, |m| m.seq));
        self.notes_sent.insert(id, detail.notes.iter().map(|n| n.id).collect());
        Ok(detail)
    }

    fn unfollow(&mut self, id: &ConversationId) {
        self.seen.forget(id);
        self.notes_sent.remove(id);
        self.chats.remove(id);
        self.sent_up_to.remove(id);
        self.ended.remove(id);
    }

    async fn welcome(&mut self, presence: Presence) -> Step {
        let conversations = self.state.store.agent_conversations(self.agent.id).await?;
        let mut chats = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            chats.push(self.follow(conversation).await?);
        }
        let ids: Vec<_> = chats.iter().map(|chat| chat.conversation_id.clone()).collect();
        let welcome = AgentEvent::Welcome { name: self.agent.display_name.clone(), presence, chats };
        self.send(&welcome).await?;
        for id in &ids {
            self.tell_read(id).await?;
        }
        Ok(())
    }

    /// How far the customer had read one of the agent's chats, for the console's "Seen".
    async fn tell_read(&mut self, id: &ConversationId) -> Step {
        match self.state.store.read_up_to(id).await?.customer {
            0 => Ok(()),
            seq => self.send(&AgentEvent::Read { conversation_id: id.clone(), seq }).await,
        }
    }

    /// The merchant's queue as of its latest snapshot (computed once for every console).
    async fn send_queue(&mut self) -> Step {
        let frame = self.queue.borrow_and_update().clone();
        match frame {
            Some(frame) => send_text(&mut self.tx, frame).await,
            None => Ok(()),
        }
    }

    /// What a console that reconnected is owed in one of its chats.
    async fn resume(&mut self, id: ConversationId, held: &Held) -> Step {
        let backlog = backlog(self.state.store.as_ref(), &id, held).await?;
        self.sent_up_to.insert(id.clone(), backlog.last_seq(held.seq));
        match backlog {
            Backlog::After(messages) => {
                for message in messages {
                    self.send(&AgentEvent::Message { conversation_id: id.clone(), message }).await?;
                }
            }
            Backlog::Whole(messages) => {
                self.send(&AgentEvent::Transcript { conversation_id: id.clone(), messages }).await?;
            }
        }
        self.tell_read(&id).await
    }

    async fn catch_up(&mut self, id: &ConversationId) -> Step {
        let after = self.sent_up_to.get(id).copied().unwrap_or(0);
        for message in self.state.store.messages_after(id, after).await? {
            self.sent_up_to.insert(id.clone(), message.seq);
            self.send(&AgentEvent::Message { conversation_id: id.clone(), message }).await?;
        }
        Ok(())
    }

    /// Shows the agent a customer offered to them alone.
    async fn offer(&mut self, id: ConversationId, expires_at_ms: i64) -> Step {
        let shown = Some((id.clone(), expires_at_ms));
        if self.shown_offer == shown {
            return Ok(());
        }
        self.shown_offer = shown;
        // A notice read late (after the agent answered, or after the offer moved on) is stale.
        // An instance that follows may hear of the offer before its copy of the leader's
        // dispatcher has it: there, an offer not yet run out is current (its end follows it).
        let me = self.agent.id;
        let leading = self.state.dispatch.leading();
        let read = self.state.dispatch.read(&self.state, &self.agent.merchant_id, |d, now| {
            let current = if leading {
                d.offer_of(me).is_some_and(|(offered, _)| offered == id)
            } else {
                expires_at_ms > now
            };
            (current, d.settings())
        });
        let (current, settings) = read.await?;
        let Some(conversation) = self.state.store.conversation(&id).await?.filter(|_| current) else {
            return Ok(());
        };
        let timeout_secs = u32::try_from(settings.offer_timeout_ms / 1000).unwrap_or(u32::MAX);
        let offer = crate::queue::queue_entry(conversation);
        self.send(&AgentEvent::Offer { offer, expires_at_ms, timeout_secs }).await
    }

    /// After missed notices: the queue as it is, and the offer open now, if any.
    async fn catch_up_on_dispatch(&mut self) -> Step {
        let me = self.agent.id;
        let open = self.state.dispatch.read(&self.state, &self.agent.merchant_id, |d, _| d.offer_of(me));
        if let Some((conversation, expires_at_ms)) = open.await? {
            self.offer(conversation, expires_at_ms).await?;
        }
        self.send_queue().await
    }

    async fn notice(&mut self, notice: AgentNotice) -> Step {
        match notice {
            AgentNotice::Offered { conversation, expires_at_ms } => {
                self.offer(conversation, expires_at_ms).await
            }
            AgentNotice::OfferEnded { conversation, reason } => {
                self.send(&AgentEvent::OfferEnded { conversation_id: conversation, reason }).await
            }
            AgentNotice::WentAway => {
                let read =
                    self.state.dispatch.read(&self.state, &self.agent.merchant_id, |d, _| d.settings());
                let missed_offers = read.await.map(|s| s.missed_offers_before_away).unwrap_or_default();
                self.send(&AgentEvent::SetAway { missed_offers }).await?;
                self.send(&AgentEvent::Presence { presence: Presence::Away }).await
            }
            // Unless this console passed it on itself.
            AgentNotice::ChatReturned { conversation } if self.chats.contains_key(&conversation) => {
                let ended = self.let_go(conversation);
                self.send(&ended).await
            }
            AgentNotice::ChatReturned { .. } => Ok(()),
            AgentNotice::Deactivated => {
                Err(Stop::Refused(ErrorCode::Unauthorized, "an admin deactivated your account".into()))
            }
            AgentNotice::SignedOut { session } if session == self.signed_in => {
                Err(Stop::Refused(ErrorCode::Unauthorized, "you signed out; sign in again".into()))
            }
            AgentNotice::SignedOut { .. } => Ok(()),
            AgentNotice::Missed => self.catch_up_on_dispatch().await,
        }
    }

    /// A message once, in order: one already sent is dropped, and after a gap the database
    /// fills it in.
    async fn forward_message(&mut self, id: ConversationId, message: ChatMessage) -> Step {
        let delivered = self.sent_up_to.get(&id).copied().unwrap_or(0);
        if message.seq <= delivered {
            return Ok(());
        }
        if message.seq > delivered + 1 {
            return self.catch_up(&id).await;
        }
        self.sent_up_to.insert(id.clone(), message.seq);
        self.send(&AgentEvent::Message { conversation_id: id, message }).await
    }

    async fn forward(&mut self, id: ConversationId, event: LiveEvent) -> Step {
        let outgoing = match event {
            LiveEvent::Message(message) => return self.forward_message(id, message).await,
            LiveEvent::Committed { seq } => {
                if seq > self.sent_up_to.get(&id).copied().unwrap_or(0) {
                    return self.catch_up(&id).await;
                }
                return Ok(());
            }
            LiveEvent::Typing { from: Side::Customer, typing } => {
                AgentEvent::Typing { conversation_id: id, typing }
            }
            LiveEvent::Read { from: Side::Customer, seq } => AgentEvent::Read { conversation_id: id, seq },
            LiveEvent::Note(note) => match self.note_sent(id, note) {
                Some(event) => event,
                None => return Ok(()),
            },
            LiveEvent::Noted => return self.catch_up_notes(id).await,
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
            | LiveEvent::AgentLeft { .. } => return Ok(()),
        };
        self.send(&outgoing).await
    }
}
