//! Read receipts ("Seen"): what one side says it has read is stored before it is relayed, so
//! that a page or console that connects again is told how far the other side had read.

use std::collections::HashMap;

use tandem_protocol::{ConversationId, Seq};

use crate::store::{ChatRef, Side, Store, StoreError};

/// What one session has stored of its side's reading, by conversation.
#[derive(Default)]
pub(super) struct Seen {
    stored: HashMap<ConversationId, Seq>,
}

impl Seen {
    /// `by` says it has read `chat` up to `seq`. Capped at `sent_up_to` (nobody reads what they
    /// were not sent) and stored only when it is further than before: the `seq` to relay, or
    /// `None` when it is not news (a console repeating itself costs no write).
    pub async fn mark(
        &mut self,
        store: &dyn Store,
        chat: ChatRef<'_>,
        by: Side,
        seq: Seq,
        sent_up_to: Seq,
    ) -> Result<Option<Seq>, StoreError> {
        let seq = seq.min(sent_up_to);
        let stored = self.stored.entry(chat.id.clone()).or_default();
        if seq <= *stored {
            return Ok(None);
        }
        store.mark_read(chat, by, seq).await?;
        *stored = seq;
        Ok(Some(seq))
    }

    pub fn forget(&mut self, id: &ConversationId) {
        self.stored.remove(id);
    }
}
