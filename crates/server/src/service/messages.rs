//! Posting a message, for customers and agents alike.

use std::net::IpAddr;

use tandem_protocol::{
    Author, ChatMessage, ClientMessageId, ConversationId, ErrorCode, MAX_CLIENT_ID_BYTES, MerchantId, Note,
    mask_card_numbers, validate_text,
};

use super::{Outcome, refused};
use crate::AppState;
use crate::live::{LiveEvent, now_ms};
use crate::store::{Agent, ChatRef, NewFile, NewMessage, NewNote};

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

/// What both a message and a note must be: a client id of 1 to 64 bytes, a valid text (with
/// card numbers masked), within the sender's message budget.
fn checked_text(
    state: &AppState,
    client_id: &ClientMessageId,
    text: String,
    sender: &str,
    ip: Option<IpAddr>,
) -> Outcome<String> {
    let text = checked_shape(client_id, text)?;
    if !state.limits.allow_message(sender, ip) {
        let message = "too many messages; wait a moment and resend with the same client id";
        return refused(ErrorCode::RateLimited, message);
    }
    Ok(text)
}

/// A client id of 1 to 64 bytes and a valid text, with card numbers masked.
fn checked_shape(client_id: &ClientMessageId, text: String) -> Outcome<String> {
    if client_id.0.is_empty() || client_id.0.len() > MAX_CLIENT_ID_BYTES || client_id.0.contains('\0') {
        return refused(ErrorCode::MalformedFrame, "a client id has 1 to 64 bytes");
    }
    if let Err(problem) = validate_text(&text) {
        return refused(ErrorCode::InvalidMessage, problem);
    }
    // Every text is stored through here, the agents' too: no card number is (the widget masks
    // them already; this is for clients that do not, and for an agent reading one back).
    Ok(mask_card_numbers(&text).unwrap_or(text))
}

/// Checks and stores an internal note on a chat the agent handles, then tells the consoles
/// that follow it. Never published to the customer's sessions as text: they ignore
/// `LiveEvent::Note`, and another instance hears only that a note was stored.
pub async fn post_note(
    state: &AppState,
    agent: &Agent,
    conversation: &ConversationId,
    client_id: ClientMessageId,
    text: String,
    ip: Option<IpAddr>,
) -> Outcome<Note> {
    let text = checked_text(state, &client_id, text, &format!("agent:{}", agent.id), ip)?;
    let new = NewNote {
        agent: agent.id,
        author_name: agent.display_name.clone(),
        client_id,
        text,
        now_ms: now_ms(),
    };
    let chat = ChatRef { merchant: &agent.merchant_id, id: conversation };
    let Some(note) = state.store.add_note(chat, &new).await? else {
        return refused(ErrorCode::NotAllowed, "this is not a conversation you handle");
    };
    state.hub.publish(conversation, LiveEvent::Note(note.clone()));
    Ok(note)
}

/// Checks, masks, rate-limits and stores one message, then publishes it to every session of
/// the conversation; the caller acks it with the stored message's `seq` (its own session
/// handles the echo only after, so the ack comes first).
pub async fn post_message(state: &AppState, post: Post) -> Outcome<ChatMessage> {
    store_and_publish(state, post, None).await
}

/// As [`post_message`], for a file already checked (`crate::attachments`): its message's text
/// is the file's name.
pub async fn post_file(state: &AppState, post: Post, file: NewFile) -> Outcome<ChatMessage> {
    store_and_publish(state, post, Some(file)).await
}

/// A file spends its conversation's hourly count of files (checked by the caller) and its
/// network's budget of files, not the message budget: ten in a row are allowed.
async fn store_and_publish(state: &AppState, post: Post, file: Option<NewFile>) -> Outcome<ChatMessage> {
    let text = match file {
        Some(_) if !state.limits.allow_file(post.ip) => {
            return refused(ErrorCode::RateLimited, "too many files from this network; wait a minute");
        }
        Some(_) => checked_shape(&post.client_id, post.text)?,
        None => checked_text(state, &post.client_id, post.text, &post.sender, post.ip)?,
    };
    let new = NewMessage {
        merchant_id: post.merchant,
        conversation_id: post.conversation.clone(),
        client_id: post.client_id,
        author: post.author,
        text,
        now_ms: now_ms(),
        file,
    };
    let started = std::time::Instant::now();
    let message = state.store.append_message(&new).await?;
    state.metrics.committed(started.elapsed());
    state.hub.publish(&post.conversation, LiveEvent::Message(message.clone()));
    Ok(message)
}
