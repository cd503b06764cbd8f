//! The customer's WebSocket: `GET /v1/conversations/{id}/live`.
//!
//! The first frame must be `hello` with the customer token; then the session sends what the
//! customer missed and relays live events until either side closes.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use tandem_protocol::{
    Author, ConversationId, ConversationStatus, CustomerEvent, CustomerFrame, ErrorCode, MerchantId,
    PROTOCOL_VERSION, QueueStatus, Seq,
};
use tokio::sync::broadcast::error::RecvError;

use super::wire::{Incoming, close, next_frame, send};
use super::{LiveEvent, Side};
use crate::AppState;
use crate::service::{self, NotStored, Post};
use crate::store::StoreError;
use crate::tokens::hash_token;

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a waiting customer's `welcome` waits for the queue snapshot that lists them.
const LISTING_WAIT: Duration = Duration::from_secs(1);

struct Session<W> {
    state: AppState,
    id: ConversationId,
    merchant: MerchantId,
    status: ConversationStatus,
    /// Highest sequence delivered on this connection: nothing at or below it is sent again.
    sent_up_to: Seq,
    last_queue: Option<QueueStatus>,
    /// The merchant's queue snapshots (see `crate::queue`).
    queue: crate::queue::CustomerWatch,
    ip: Option<IpAddr>,
    tx: W,
}

pub async fn run<W, R>(state: AppState, id: ConversationId, ip: Option<IpAddr>, mut tx: W, mut rx: R)
where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let hello = tokio::time::timeout(HELLO_TIMEOUT, next_frame::<_, CustomerFrame>(&mut rx)).await;
    let (version, claimed, token, last_seq) = match hello {
        Ok(Incoming::Frame(CustomerFrame::Hello { version, conversation_id, token, last_seq })) => {
            (version, conversation_id, token, last_seq)
        }
        Ok(Incoming::Closed) => return,
        _ => return refuse(&mut tx, ErrorCode::ExpectedHello, "the first frame must be hello").await,
    };
    if version != PROTOCOL_VERSION {
        let message = format!("this server speaks protocol version {PROTOCOL_VERSION}");
        return refuse(&mut tx, ErrorCode::UnsupportedVersion, &message).await;
    }
    let conversation = match state.store.conversation(&id).await {
        Ok(Some(conversation)) if claimed == id && conversation.token_hash == hash_token(&token) => {
            conversation
        }
        Ok(_) => {
            return refuse(&mut tx, ErrorCode::Unauthorized, "unknown conversation or wrong token").await;
        }
        Err(error) => return internal(&mut tx, &error).await,
    };

    // Subscribe before reading the backlog, so that nothing committed in between is missed;
    // duplicates are dropped by sequence number instead.
    let mut events = state.hub.subscribe(&id);
    let queue = state.queues.watch_statuses(&state, &conversation.merchant_id);
    let mut shutdown = state.shutting_down();
    let agent_name = match conversation.agent_id {
        Some(agent) => state.store.agent(agent).await.ok().flatten().map(|a| a.display_name),
        None => None,
    };
    let mut session = Session {
        id,
        merchant: conversation.merchant_id,
        status: conversation.status,
        sent_up_to: last_seq,
        last_queue: None,
        queue,
        ip,
        tx,
        state,
    };
    let queue = match session.status {
        ConversationStatus::Waiting => session.listed_status().await,
        _ => None,
    };
    session.last_queue = queue;
    let welcome = CustomerEvent::Welcome { status: session.status, agent_name, queue };
    if !send(&mut session.tx, &welcome).await || !session.catch_up().await {
        return;
    }

    loop {
        let carry_on = tokio::select! {
            incoming = next_frame::<_, CustomerFrame>(&mut rx) => match incoming {
                Incoming::Frame(frame) => session.handle(frame).await,
                Incoming::Invalid(code, message) => session.error(code, &message).await,
                Incoming::Closed => false,
            },
            event = events.recv() => match event {
                Ok(event) => session.forward(event).await,
                Err(RecvError::Lagged(_)) => session.catch_up().await,
                Err(RecvError::Closed) => false,
            },
            Ok(()) = session.queue.changed() => session.send_queue_if_moved().await,
            _ = shutdown.changed() => false,
        };
        if !carry_on {
            break;
        }
    }
    close(&mut session.tx).await;
}

async fn refuse<W: Sink<Message> + Unpin>(tx: &mut W, code: ErrorCode, message: &str) {
    send(tx, &CustomerEvent::Error { code, message: message.to_owned() }).await;
    close(tx).await;
}

async fn internal<W: Sink<Message> + Unpin>(tx: &mut W, error: &StoreError) {
    tracing::error!(%error, "customer session failed");
    refuse(tx, ErrorCode::Internal, "the server could not complete this; reconnect shortly").await;
}

impl<W: Sink<Message> + Unpin> Session<W> {
    async fn error(&mut self, code: ErrorCode, message: &str) -> bool {
        send(&mut self.tx, &CustomerEvent::Error { code, message: message.to_owned() }).await
    }

    /// Sends every stored message after `sent_up_to`, in order.
    async fn catch_up(&mut self) -> bool {
        let missed = match self.state.store.messages_after(&self.id, self.sent_up_to).await {
            Ok(missed) => missed,
            Err(error) => {
                internal(&mut self.tx, &error).await;
                return false;
            }
        };
        for message in missed {
            self.sent_up_to = message.seq;
            if !send(&mut self.tx, &CustomerEvent::Message { message }).await {
                return false;
            }
        }
        true
    }

    async fn handle(&mut self, frame: CustomerFrame) -> bool {
        match frame {
            CustomerFrame::Hello { .. } => {
                self.error(ErrorCode::ExpectedHello, "hello comes once, first").await
            }
            CustomerFrame::Send { client_id, text } => {
                if self.status == ConversationStatus::Ended {
                    return self.error(ErrorCode::ConversationEnded, "this conversation has ended").await;
                }
                let post = Post {
                    conversation: self.id.clone(),
                    client_id: client_id.clone(),
                    author: Author::Customer,
                    text,
                    sender: self.id.0.clone(),
                    ip: self.ip,
                };
                match service::post_message(&self.state, post).await {
                    // Acked only once committed.
                    Ok(message) => {
                        send(&mut self.tx, &CustomerEvent::Ack { client_id, seq: message.seq }).await
                    }
                    Err(NotStored::Refused(code, message)) => self.error(code, message).await,
                    Err(NotStored::Store(error)) => {
                        internal(&mut self.tx, &error).await;
                        false
                    }
                }
            }
            CustomerFrame::Typing { typing } => {
                self.state.hub.publish(&self.id, LiveEvent::Typing { from: Side::Customer, typing });
                true
            }
            CustomerFrame::Read { seq } => {
                self.state.hub.publish(&self.id, LiveEvent::Read { from: Side::Customer, seq });
                true
            }
            CustomerFrame::Close => {
                let ending = crate::service::Ending::Ended;
                if let Err(error) = crate::service::end(&self.state, &self.merchant, &self.id, ending).await {
                    internal(&mut self.tx, &error).await;
                    return false;
                }
                self.status = ConversationStatus::Ended;
                send(&mut self.tx, &CustomerEvent::Closed).await
            }
        }
    }

    async fn forward(&mut self, event: LiveEvent) -> bool {
        let outgoing = match event {
            LiveEvent::Message(message) => {
                if message.seq <= self.sent_up_to {
                    return true;
                }
                if message.seq > self.sent_up_to + 1 {
                    // A gap: something was missed; the database has it.
                    return self.catch_up().await;
                }
                self.sent_up_to = message.seq;
                CustomerEvent::Message { message }
            }
            LiveEvent::Typing { from: Side::Agent, typing } => CustomerEvent::Typing { typing },
            LiveEvent::Read { from: Side::Agent, seq } => CustomerEvent::Read { seq },
            LiveEvent::Typing { from: Side::Customer, .. }
            | LiveEvent::Read { from: Side::Customer, .. }
            | LiveEvent::Rated(_) => {
                return true;
            }
            LiveEvent::AgentJoined { name } => {
                self.status = ConversationStatus::Active;
                self.last_queue = None;
                CustomerEvent::AgentJoined { name }
            }
            LiveEvent::AgentLeft { name } => {
                self.status = ConversationStatus::Waiting;
                let left = send(&mut self.tx, &CustomerEvent::AgentLeft { name }).await;
                return left && self.send_queue_if_moved().await;
            }
            LiveEvent::BackToBot => {
                self.status = ConversationStatus::Ended;
                CustomerEvent::BackToBot
            }
            LiveEvent::Ended => {
                if self.status == ConversationStatus::Ended {
                    return true;
                }
                self.status = ConversationStatus::Ended;
                CustomerEvent::Closed
            }
        };
        send(&mut self.tx, &outgoing).await
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

    async fn send_queue_if_moved(&mut self) -> bool {
        if self.status != ConversationStatus::Waiting {
            return true;
        }
        let Some(queue) = self.own_status() else { return true };
        if self.last_queue == Some(queue) {
            return true;
        }
        self.last_queue = Some(queue);
        send(&mut self.tx, &CustomerEvent::Queue { queue }).await
    }
}
