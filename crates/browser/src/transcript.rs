use leptos::prelude::*;
use tandem_protocol::{ChatMessage, ClientMessageId, Seq};

use crate::Pending;

/// The last message held, as a client names it when it (re)connects: its sequence number (0
/// for none), for the server to send what follows, and its client id, for the server to tell
/// whether it still holds that very message.
pub fn last_held(messages: &[ChatMessage]) -> (Seq, Option<ClientMessageId>) {
    messages.last().map_or((0, None), |message| (message.seq, Some(message.client_id.clone())))
}

/// Appends `message` unless it is not newer than the last one held (the server replays from
/// the last seq a client holds, so a message can arrive twice); `true` if it was appended.
pub fn append_new(messages: &mut Vec<ChatMessage>, message: ChatMessage) -> bool {
    let is_new = messages.last().is_none_or(|last| last.seq < message.seq);
    if is_new {
        messages.push(message);
    }
    is_new
}

/// A conversation as both transcripts list it: the stored messages in order (keyed by their
/// sequence number), then what is still being sent (keyed by its client id). Each side draws
/// its own lines.
#[component]
pub fn MessagesThenPending<MF, PF, To, SM, MV, SP, PV>(
    messages: MF,
    pending: PF,
    show_message: SM,
    show_pending: SP,
) -> impl IntoView
where
    MF: Fn() -> Vec<ChatMessage> + Send + 'static,
    PF: Fn() -> Vec<Pending<To>> + Send + 'static,
    To: Send + 'static,
    SM: Fn(ChatMessage) -> MV + Send + Clone + 'static,
    MV: IntoView + 'static,
    SP: Fn(Pending<To>) -> PV + Send + Clone + 'static,
    PV: IntoView + 'static,
{
    view! {
        <For each=messages key=|message| message.seq children=show_message/>
        // A line refused for good is drawn again, as not sent (a key of the same type, so that
        // no second keyed list is compiled into the wasm).
        <For each=pending key=|pending| pending_key(pending) children=show_pending/>
    }
}

fn pending_key<To>(pending: &Pending<To>) -> String {
    if pending.not_sent { format!("{}/not-sent", pending.client_id.0) } else { pending.client_id.0.clone() }
}
