//! The customer's WebSocket: `GET /v1/conversations/{id}/live`.
//!
//! The first frame must be `hello` with the customer token; then the session sends what the
//! customer missed and relays live events until either side closes. Each frame the customer
//! sends is carried out by the conversations service (`crate::service`).

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use tandem_protocol::{
    Author, ChatMessage, ClientMessageId, ConversationId, ConversationStatus, CustomerEvent, CustomerFrame,
    ErrorCode, MerchantId, PROTOCOL_VERSION, QueueStatus, Seq,
};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::backlog::{Backlog, Held, backlog};
use super::relay::Coalesced;
use super::seen::Seen;
use super::wire::{
    Handles, Heartbeat, Incoming, Named, Step, Stop, answerable, finish, next_frame, on_beat, receive, send,
};
use super::{LiveEvent, Side, hub};
use crate::AppState;
use crate::service::{self, Ending, Outcome, Post, refused};
use crate::store::{ChatRef, Conversation};
use crate::tokens::hash_token;

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a waiting customer's `welcome` waits for the queue snapshot that lists them.
const LISTING_WAIT: Duration = Duration::from_secs(1);

struct Session<W> {
    state: AppState,
    id: ConversationId,
    merchant: MerchantId,
    status: ConversationStatus,
    /// The agent's name, for the welcome of a conversation already with one.
    agent: Option<i64>,
    /// Highest sequence delivered on this connection: nothing at or below it is sent again.
    sent_up_to: Seq,
    last_queue: Option<QueueStatus>,
    /// The conversation's live events, subscribed before its backlog is read.
    events: hub::ChatEvents,
    /// The merchant's queue snapshots (see `crate::queue`).
    queue: crate::queue::CustomerWatch,
    /// The customer's typing and read receipts, on their way to the agent.
    relay: Coalesced<ConversationId>,
    seen: Seen,
    ip: Option<IpAddr>,
    tx: W,
}

fn error_frame(code: ErrorCode, message: String) -> CustomerEvent {
    CustomerEvent::Error { code, message, client_id: None }
}

pub async fn run<W, R>(state: AppState, id: ConversationId, ip: Option<IpAddr>, mut tx: W, mut rx: R)
where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let (conversation, held, events) = match hello(&state, &id, &mut rx).await {
        Ok(hello) => hello,
        Err(stop) => return finish(&mut tx, stop, error_frame).await,
    };
    let presence = service::Presence::open(&state, conversation.merchant_id.clone(), id.clone());
    if let Err(error) = service::customer_arrived(&state, &presence).await {
        tracing::warn!(%error, "could not note that a customer is back");
    }
    let mut session = Session {
        events,
        queue: state.queues.watch_statuses(&state, &conversation.merchant_id),
        id,
        merchant: conversation.merchant_id,
        status: conversation.status,
        agent: conversation.agent_id,
        sent_up_to: held.seq,
        last_queue: None,
        relay: Coalesced::new(),
        seen: Seen::default(),
        ip,
        tx,
        state,
    };
    let stop = match session.welcome(&held).await {
        Ok(()) => session.serve(rx).await,
        Err(stop) => stop,
    };
    finish(&mut session.tx, stop, error_frame).await;
    presence.close(&session.state).await;
}

/// Reads the `hello` frame and checks the customer's token: the conversation, the last
/// sequence the customer has, and the conversation's live events. Those are subscribed before
/// the conversation is read, so that nothing in between is missed (an agent joining, a
/// message): the welcome and backlog say where it stood, the events what came after, and
/// what comes twice is dropped by sequence number.
async fn hello<R>(
    state: &AppState,
    id: &ConversationId,
    rx: &mut R,
) -> Result<(Conversation, Held, hub::ChatEvents), Stop>
where
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let first = async {
        loop {
            match next_frame::<_, CustomerFrame>(rx).await {
                Incoming::Alive => continue,
                other => break other,
            }
        }
    };
    let hello = tokio::time::timeout(HELLO_TIMEOUT, first).await;
    let (version, claimed, token, held) = match hello {
        Ok(Incoming::Frame(CustomerFrame::Hello {
            version,
            conversation_id,
            token,
            last_seq,
            last_client_id,
        })) => (version, conversation_id, token, Held { seq: last_seq, client_id: last_client_id }),
        Ok(Incoming::Closed) => return Err(Stop::Closed),
        _ => return Err(Stop::Refused(ErrorCode::ExpectedHello, "the first frame must be hello".into())),
    };
    if version != PROTOCOL_VERSION {
        let message = format!("this server speaks protocol version {PROTOCOL_VERSION}");
        return Err(Stop::Refused(ErrorCode::UnsupportedVersion, message));
    }
    let events = state.hub.subscribe(id);
    match state.store.conversation(id).await? {
        Some(conversation) if claimed == *id && conversation.token_hash == hash_token(&token) => {
            Ok((conversation, held, events))
        }
        _ => Err(Stop::Refused(ErrorCode::Unauthorized, "unknown conversation or wrong token".into())),
    }
}

impl<W: Sink<Message> + Unpin> Handles<CustomerFrame> for Session<W> {
    async fn frame(&mut self, frame: CustomerFrame) -> Step {
        self.handle(frame).await
    }

    async fn refused(&mut self, code: ErrorCode, message: &str, named: Named) -> Step {
        self.refuse(code, message, named.client_id).await
    }
}

impl<W: Sink<Message> + Unpin> Session<W> {
    /// Where the conversation stands, then every message the customer has not had (or the
    /// whole conversation, when their copy has diverged from the store's).
    async fn welcome(&mut self, held: &Held) -> Step {
        let agent_name = match self.agent {
            Some(agent) => self.state.store.agent(agent).await.ok().flatten().map(|a| a.display_name),
            None => None,
        };
        let queue = match self.status {
            ConversationStatus::Waiting => self.listed_status().await,
            _ => None,
        };
        self.last_queue = queue;
        self.send(&CustomerEvent::Welcome { status: self.status, agent_name, queue }).await?;
        let backlog = backlog(self.state.store.as_ref(), &self.id, held).await?;
        self.sent_up_to = backlog.last_seq(held.seq);
        match backlog {
            Backlog::After(messages) => {
                for message in messages {
                    self.send(&CustomerEvent::Message { message }).await?;
                }
            }
            Backlog::Whole(messages) => self.send(&CustomerEvent::Transcript { messages }).await?,
        }
        // How far the agent had read, for the page's "Seen".
        match self.state.store.read_up_to(&self.id).await?.agent {
            0 => Ok(()),
            seq => self.send(&CustomerEvent::Read { seq }).await,
        }
    }

    async fn serve<R>(&mut self, mut rx: R) -> Stop
    where
        R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        let mut shutdown = self.state.shutting_down();
        let mut heartbeat = Heartbeat::new(self.state.live_timing);
        loop {
            let due = self.relay.due();
            let step = tokio::select! {
                incoming = next_frame::<_, CustomerFrame>(&mut rx) => receive(self, &mut heartbeat, incoming).await,
                beat = heartbeat.beat() => on_beat(&mut self.tx, beat).await,
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    self.relay_now();
                    Ok(())
                }
                event = self.events.recv() => match event {
                    Ok(event) => self.forward(event).await,
                    Err(RecvError::Lagged(_)) => self.catch_up().await,
                    Err(RecvError::Closed) => Err(Stop::Closed),
                },
                Ok(()) = self.queue.changed() => self.send_queue_if_moved().await,
                _ = shutdown.changed() => Err(Stop::Closed),
            };
            if let Err(stop) = step {
                return stop;
            }
        }
    }

    async fn send(&mut self, event: &CustomerEvent) -> Step {
        send(&mut self.tx, event).await
    }

    /// An error frame, naming the `send` it refuses (if it was one).
    async fn refuse(&mut self, code: ErrorCode, message: &str, client_id: Option<ClientMessageId>) -> Step {
        self.send(&CustomerEvent::Error { code, message: message.to_owned(), client_id }).await
    }

    /// Sends every stored message after `sent_up_to`, in order.
    async fn catch_up(&mut self) -> Step {
        for message in self.state.store.messages_after(&self.id, self.sent_up_to).await? {
            self.sent_up_to = message.seq;
            self.send(&CustomerEvent::Message { message }).await?;
        }
        Ok(())
    }

    /// Carries out one frame and writes its answer; a refusal is an error frame, and the
    /// session carries on.
    async fn handle(&mut self, frame: CustomerFrame) -> Step {
        let about = match &frame {
            CustomerFrame::Send { client_id, .. } => Some(client_id.clone()),
            _ => None,
        };
        match self.apply(frame).await {
            Ok(Some(event)) => self.send(&event).await,
            Ok(None) => Ok(()),
            Err(failure) => {
                let (code, message) = answerable(failure)?;
                self.refuse(code, message, about).await
            }
        }
    }

    async fn apply(&mut self, frame: CustomerFrame) -> Outcome<Option<CustomerEvent>> {
        match frame {
            CustomerFrame::Hello { .. } => refused(ErrorCode::ExpectedHello, "hello comes once, first"),
            CustomerFrame::Send { .. } if self.status == ConversationStatus::Ended => {
                refused(ErrorCode::ConversationEnded, "this conversation has ended")
            }
            CustomerFrame::Send { client_id, text } => {
                let post = Post {
                    merchant: self.merchant.clone(),
                    conversation: self.id.clone(),
                    client_id,
                    author: Author::Customer,
                    text,
                    sender: self.id.0.clone(),
                    ip: self.ip,
                };
                let client_id = post.client_id.clone();
                let message = service::post_message(&self.state, post).await?;
                // Acked only once committed.
                Ok(Some(CustomerEvent::Ack { client_id, seq: message.seq }))
            }
            CustomerFrame::Typing { typing } => {
                self.relay.typing(self.id.clone(), typing);
                self.relay_now();
                Ok(None)
            }
            CustomerFrame::Read { seq } => {
                let chat = ChatRef { merchant: &self.merchant, id: &self.id };
                let store = self.state.store.as_ref();
                if let Some(seq) = self.seen.mark(store, chat, Side::Customer, seq, self.sent_up_to).await? {
                    self.relay.read(self.id.clone(), seq);
                }
                self.relay_now();
                Ok(None)
            }
            CustomerFrame::Close => {
                service::end(&self.state, &self.merchant, &self.id, Ending::Ended).await?;
                self.status = ConversationStatus::Ended;
                Ok(Some(CustomerEvent::Closed))
            }
        }
    }

    /// A message once, in order: one already sent is dropped, and after a gap the database
    /// fills it in.
    /// Relays what typing and reading waits, if its turn has come (see `super::relay`).
    fn relay_now(&mut self) {
        self.relay.relay_due(&self.state.hub, Side::Customer);
    }

    async fn forward_message(&mut self, message: ChatMessage) -> Step {
        if message.seq <= self.sent_up_to {
            return Ok(());
        }
        if message.seq > self.sent_up_to + 1 {
            return self.catch_up().await;
        }
        self.sent_up_to = message.seq;
        self.send(&CustomerEvent::Message { message }).await
    }

    async fn forward(&mut self, event: LiveEvent) -> Step {
        let outgoing = match event {
            LiveEvent::Message(message) => return self.forward_message(message).await,
            LiveEvent::Committed { seq } if seq > self.sent_up_to => return self.catch_up().await,
            LiveEvent::Committed { .. } => return Ok(()),
            LiveEvent::Typing { from: Side::Agent, typing } => CustomerEvent::Typing { typing },
            LiveEvent::Read { from: Side::Agent, seq } => CustomerEvent::Read { seq },
            // Notes are the merchant's agents' alone: never the customer's.
            LiveEvent::Typing { from: Side::Customer, .. }
            | LiveEvent::Read { from: Side::Customer, .. }
            | LiveEvent::Note(_)
            | LiveEvent::Noted
            | LiveEvent::Rated(_) => return Ok(()),
            // Already told by the welcome (the agent joined as this session connected).
            LiveEvent::AgentJoined { .. } if self.status == ConversationStatus::Active => return Ok(()),
            LiveEvent::AgentJoined { name } => {
                self.status = ConversationStatus::Active;
                self.last_queue = None;
                CustomerEvent::AgentJoined { name }
            }
            LiveEvent::AgentLeft { name } => {
                self.status = ConversationStatus::Waiting;
                self.send(&CustomerEvent::AgentLeft { name }).await?;
                return self.send_queue_if_moved().await;
            }
            LiveEvent::BackToBot => {
                self.status = ConversationStatus::Ended;
                CustomerEvent::BackToBot
            }
            LiveEvent::Ended if self.status == ConversationStatus::Ended => return Ok(()),
            LiveEvent::Ended => {
                self.status = ConversationStatus::Ended;
                CustomerEvent::Closed
            }
        };
        self.send(&outgoing).await
    }

    /// The customer's place for `welcome`: from the snapshot that lists them (a moment after
    /// they joined the queue, at most [`LISTING_WAIT`]), else read from dispatch directly.
    async fn listed_status(&mut self) -> Option<QueueStatus> {
        let id = self.id.clone();
        let listed = self.queue.wait_for(|s| s.as_ref().is_some_and(|s| s.status(&id).is_some()));
        if let Ok(Ok(snapshot)) = tokio::time::timeout(LISTING_WAIT, listed).await {
            return snapshot.as_ref().and_then(|s| s.status(&id));
        }
        let place =
            self.state.dispatch.read(&self.state, &self.merchant, |d, now| d.status_of(&id, now)).await;
        place.ok().flatten().map(|(position, wait)| crate::queue::status(position, wait))
    }

    /// The customer's place in the merchant's latest queue snapshot, if it lists them.
    fn own_status(&mut self) -> Option<QueueStatus> {
        self.queue.borrow_and_update().as_ref().and_then(|snapshot| snapshot.status(&self.id))
    }

    async fn send_queue_if_moved(&mut self) -> Step {
        if self.status != ConversationStatus::Waiting {
            return Ok(());
        }
        let Some(queue) = self.own_status() else { return Ok(()) };
        if self.last_queue == Some(queue) {
            return Ok(());
        }
        self.last_queue = Some(queue);
        self.send(&CustomerEvent::Queue { queue }).await
    }
}
