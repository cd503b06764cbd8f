//! The rules of a conversation's life that more than one session carries out, each written
//! once, in one order: the database (the source of truth) first, then the dispatcher, then the
//! live sessions through the hub. The sessions only read a frame, call these and answer.

use std::net::IpAddr;

use tandem_protocol::{
    Author, ChatMessage, ClientMessageId, ConversationId, ErrorCode, MAX_CLIENT_ID_BYTES, MerchantId,
    mask_card_numbers, validate_text,
};

use crate::AppState;
use crate::live::{LiveEvent, now_ms};
use crate::store::{NewMessage, StoreError};

/// How a conversation with a person ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The customer or the agent ended it; it may still be rated.
    Ended,
    /// The agent handed the customer back to the bot: over, not rated.
    BackToBot,
}

/// Ends the conversation; `false` when it had already ended (the other side's end is on its
/// way to everyone). A dispatcher that cannot follow is logged, the same on every path: the
/// end is stored, and a restart rebuilds dispatch from the database.
pub async fn end(
    state: &AppState,
    merchant: &MerchantId,
    id: &ConversationId,
    ending: Ending,
) -> Result<bool, StoreError> {
    if !state.store.end(id, now_ms()).await? {
        return Ok(false);
    }
    let forgotten = state.dispatch.change(state, merchant, |d, now| {
        let notices = match ending {
            Ending::Ended => d.end(id, now),
            Ending::BackToBot => d.release(id, now),
        };
        ((), notices)
    });
    if let Err(error) = forgotten.await {
        tracing::error!(%error, conversation = %id, "dispatch could not forget an ended conversation");
    }
    let event = match ending {
        Ending::Ended => LiveEvent::Ended,
        Ending::BackToBot => LiveEvent::BackToBot,
    };
    state.hub.publish(id, event);
    Ok(true)
}

/// Why a message was not stored: the error frame's code and message, or the database.
#[derive(Debug)]
pub enum NotStored {
    Refused(ErrorCode, &'static str),
    Store(StoreError),
}

/// A message to store, from either side.
pub struct Post {
    pub conversation: ConversationId,
    pub client_id: ClientMessageId,
    pub author: Author,
    pub text: String,
    /// Whose message budget it spends (the conversation for a customer, `agent:<id>`).
    pub sender: String,
    pub ip: Option<IpAddr>,
}

/// Checks, masks, rate-limits and stores one message, then publishes it to every session of
/// the conversation; the caller acks it with the stored message's `seq` (its own session
/// handles the echo only after, so the ack comes first).
pub async fn post_message(state: &AppState, post: Post) -> Result<ChatMessage, NotStored> {
    if post.client_id.0.is_empty() || post.client_id.0.len() > MAX_CLIENT_ID_BYTES {
        return Err(NotStored::Refused(ErrorCode::MalformedFrame, "a client id has 1 to 64 bytes"));
    }
    validate_text(&post.text).map_err(|problem| NotStored::Refused(ErrorCode::InvalidMessage, problem))?;
    // Every message is stored through here, the agents' too: no card number is (the widget
    // masks them already; this is for clients that do not, and for an agent reading one back).
    let text = mask_card_numbers(&post.text).unwrap_or(post.text);
    if !state.limits.allow_message(&post.sender, post.ip) {
        let message = "too many messages; wait a moment and resend with the same client id";
        return Err(NotStored::Refused(ErrorCode::RateLimited, message));
    }
    let new = NewMessage {
        conversation_id: post.conversation.clone(),
        client_id: post.client_id,
        author: post.author,
        text,
        now_ms: now_ms(),
    };
    let message = state.store.append_message(&new).await.map_err(NotStored::Store)?;
    state.hub.publish(&post.conversation, LiveEvent::Message(message.clone()));
    Ok(message)
}
