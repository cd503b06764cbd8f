//! What a (re)connecting client is owed: the messages after the last one it holds.
//!
//! Sequence numbers are per conversation and come from the database, so a database that goes
//! back in time (restored from an older copy, or a power cut that took its last commits) hands
//! out again numbers a client already holds, for different messages. A client names the last
//! message it holds by its seq *and* its client id; when the store no longer holds that very
//! message, the client's copy has diverged, and it is sent the whole conversation to replace
//! it rather than messages it would drop as duplicates.

use tandem_protocol::{ChatMessage, ClientMessageId, ConversationId, Seq};

use crate::store::{Store, StoreError};

/// The last message a client says it holds.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub seq: Seq,
    /// Its client id, when the client names it (older clients do not; then only a seq the
    /// store has not reached is detected).
    pub client_id: Option<ClientMessageId>,
}

/// What to send a client, by what it holds.
pub enum Backlog {
    /// Its copy agrees with the store: these follow it.
    After(Vec<ChatMessage>),
    /// Its copy has diverged: the whole conversation, to replace it.
    Whole(Vec<ChatMessage>),
}

impl Backlog {
    /// The seq of the last message the client will hold once it has this backlog.
    pub fn last_seq(&self, held: Seq) -> Seq {
        match self {
            Self::After(messages) => messages.last().map_or(held, |m| m.seq),
            Self::Whole(messages) => messages.last().map_or(0, |m| m.seq),
        }
    }
}

pub async fn backlog(store: &dyn Store, id: &ConversationId, held: &Held) -> Result<Backlog, StoreError> {
    if held.seq == 0 {
        return Ok(Backlog::After(store.messages_after(id, 0).await?));
    }
    let mut messages = store.messages_after(id, held.seq - 1).await?;
    let still_held = messages.first().is_some_and(|first| {
        first.seq == held.seq && held.client_id.as_ref().is_none_or(|client_id| *client_id == first.client_id)
    });
    if still_held {
        messages.remove(0);
        return Ok(Backlog::After(messages));
    }
    Ok(Backlog::Whole(store.messages_after(id, 0).await?))
}
