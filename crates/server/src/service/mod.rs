//! The rules of a conversation's life, each written once, in one order: the database (the
//! source of truth) first, then the dispatcher, then the live sessions through the hub. The
//! HTTP handlers and the two WebSocket sessions only read a request or a frame, call one of
//! these and answer with what it returns, in the manner of a command's `apply`.
//!
//! One rule for a dispatcher that cannot be reached (its state could not be loaded): before the
//! database has changed, the request fails (nothing happened, the client may retry); after, the
//! change stands and the failure is logged, since a restart rebuilds dispatch from the
//! database ([`follow_in_dispatch`]).

mod agent;
mod customer;
mod messages;

pub use agent::{
    accept, connect, decline, disconnect, hand_to_bot, handles, requeue, set_presence, transfer,
};
pub use customer::{
    Presence, abandon_the_gone, check_locale_and_url, check_transcript, customer_arrived, customer_left,
    email_transcript, rate, set_page_context, start,
};
pub use messages::{Post, post_file, post_message, post_note};

use tandem_protocol::{ConversationId, ErrorCode, MerchantId};

use crate::AppState;
use crate::dispatch::Change;
use crate::live::{LiveEvent, now_ms};
use crate::store::{ChatRef, StoreError};

/// Why the service did not do what a session asked.
#[derive(Debug)]
pub enum Failure {
    /// Refused, with the error frame's code and message; nothing changed.
    Refused(ErrorCode, &'static str),
    /// The database failed; the session tells the client to reconnect.
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// A refusal told over HTTP (an upload) rather than in an error frame.
impl From<Failure> for crate::error::AppError {
    fn from(failure: Failure) -> Self {
        use crate::error::AppError;
        match failure {
            Failure::Store(StoreError::TooManyFiles) => AppError::TooManyFiles,
            Failure::Store(error) => AppError::Store(error),
            Failure::Refused(ErrorCode::RateLimited, _) => AppError::RateLimited,
            Failure::Refused(ErrorCode::NotAllowed, message) => AppError::Forbidden(message.into()),
            Failure::Refused(ErrorCode::ConversationEnded, message) => AppError::Conflict(message.into()),
            Failure::Refused(_, message) => AppError::InvalidRequest(message.into()),
        }
    }
}

/// What a service call returns to a WebSocket session.
pub type Outcome<T> = Result<T, Failure>;

pub(crate) fn refused<T>(code: ErrorCode, message: &'static str) -> Outcome<T> {
    Err(Failure::Refused(code, message))
}

/// How a conversation with a person ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The customer or the agent ended it; it may still be rated.
    Ended,
    /// The agent handed the customer back to the bot: over, not rated.
    BackToBot,
}

/// Ends the conversation; `false` when it had already ended (the other side's end is on its
/// way to everyone).
pub async fn end(
    state: &AppState,
    merchant: &MerchantId,
    id: &ConversationId,
    ending: Ending,
) -> Result<bool, StoreError> {
    if !state.store.end(ChatRef { merchant, id }, now_ms()).await? {
        return Ok(false);
    }
    let change = match ending {
        Ending::Ended => Change::End(id.clone()),
        Ending::BackToBot => Change::Release(id.clone()),
    };
    follow_in_dispatch(state, merchant, id, change).await;
    let event = match ending {
        Ending::Ended => LiveEvent::Ended,
        Ending::BackToBot => LiveEvent::BackToBot,
    };
    state.hub.publish(id, event);
    tell_webhooks_ended(state, merchant, id, ending).await;
    Ok(true)
}

/// `conversation_ended`, with the whole conversation: what the bot heard and every message.
async fn tell_webhooks_ended(state: &AppState, merchant: &MerchantId, id: &ConversationId, ending: Ending) {
    let event = crate::webhooks::Event::ConversationEnded;
    if !crate::webhooks::wanted(state, merchant, event).await {
        return;
    }
    let (conversation, messages) = match (
        state.store.conversation(id).await,
        state.store.messages_after(id, 0).await,
    ) {
        (Ok(Some(conversation)), Ok(messages)) => (conversation, messages),
        _ => {
            return tracing::warn!(conversation = %id, "ended, but its transcript could not be read for the webhooks");
        }
    };
    let ended = serde_json::json!({
        "conversation_id": id,
        "ending": if ending == Ending::BackToBot { "back_to_bot" } else { "ended" },
        "transcript": conversation.transcript,
        "messages": messages,
        "rating": conversation.rating,
    });
    crate::webhooks::send_later(state, merchant, event, ended).await;
}

/// Brings the merchant's dispatcher in line with a change the database has already recorded.
/// The change stands whatever happens here: a dispatcher that cannot follow is logged, and a
/// restart rebuilds it from the database.
pub(crate) async fn follow_in_dispatch(
    state: &AppState,
    merchant: &MerchantId,
    conversation: &ConversationId,
    change: Change,
) {
    let followed = state.dispatch.change(state, merchant, change).await;
    if let Err(error) = followed {
        tracing::error!(%error, %conversation, "dispatch could not follow a recorded change");
    }
}
