//! The rules of a conversation's life that more than one session carries out, each written
//! once, in one order: the database (the source of truth) first, then the dispatcher, then the
//! live sessions through the hub. The sessions only read a frame, call these and answer.

use tandem_protocol::{ConversationId, MerchantId};

use crate::AppState;
use crate::live::{LiveEvent, now_ms};
use crate::store::StoreError;

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
