//! Posting a message, for customers and agents alike.

use std::net::IpAddr;

use tandem_protocol::{
    Author, ChatMessage, ClientMessageId, ConversationId, ErrorCode, MAX_CLIENT_ID_BYTES, MerchantId,
    mask_card_numbers, validate_text,
};

use super::{Outcome, refused};
use crate::AppState;
use crate::live::{LiveEvent, now_ms};
use crate::store::NewMessage;

/// A message to store, from either side.
pub struct Post {
    pub merchant: MerchantId,
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
pub async fn post_message(state: &AppState, post: Post) -> Outcome<ChatMessage> {
    if post.client_id.0.is_empty() || post.client_id.0.len() > MAX_CLIENT_ID_BYTES {
        return refused(ErrorCode::MalformedFrame, "a client id has 1 to 64 bytes");
    }
    if let Err(problem) = validate_text(&post.text) {
        return refused(ErrorCode::InvalidMessage, problem);
    }
    // Every message is stored through here, the agents' too: no card number is (the widget
    // masks them already; this is for clients that do not, and for an agent reading one back).
    let text = mask_card_numbers(&post.text).unwrap_or(post.text);
    if !state.limits.allow_message(&post.sender, post.ip) {
        let message = "too many messages; wait a moment and resend with the same client id";
        return refused(ErrorCode::RateLimited, message);
    }
    let new = NewMessage {
        merchant_id: post.merchant,
        conversation_id: post.conversation.clone(),
        client_id: post.client_id,
        author: post.author,
        text,
        now_ms: now_ms(),
    };
    let started = std::time::Instant::now();
    let message = state.store.append_message(&new).await?;
    state.metrics.committed(started.elapsed());
    state.hub.publish(&post.conversation, LiveEvent::Message(message.clone()));
    Ok(message)
}
