//! Internal notes on a chat: what the merchant's agents write for each other (the colleague a
//! chat is transferred to, whoever takes it back from the queue, a supervisor reading the
//! transcript). The server never sends them to the customer.

use leptos::prelude::*;
use tandem_protocol::{ConversationDetail, Note, validate_text};

/// The chat's notes, and (while it is under way) a box to add one. `add` sends a note and says
/// whether it went.
#[component]
pub fn Notes(
    chat: Memo<Option<ConversationDetail>>,
    open: Signal<bool>,
    add: Callback<String, bool>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let submit = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        let note = text.get_untracked();
        let added = validate_text(&note).and_then(|()| {
            if add.run(note) {
                Ok(())
            } else {
                Err("Not added: the console is reconnecting; add it again in a moment.")
            }
        });
        match added {
            Ok(()) => {
                text.set(String::new());
                problem.set(None);
            }
            Err(why) => problem.set(Some(why)),
        }
    };
    let notes = move || chat.with(|chat| chat.as_ref().map(|c| c.notes.clone()).unwrap_or_default());
    view! {
        <section class="notes" aria-label="Internal notes" data-testid="notes">
            <h3>"Notes for your team " <span class="hint">"(the customer never sees them)"</span></h3>
            <ul>
                <For each=notes key=|note: &Note| note.id let:note>
                    <li class="note" data-testid="note">
                        <span class="author">{note.author_name}": "</span>
                        {note.text}
                    </li>
                </For>
            </ul>
            <Show when=move || open.get()>
                <form class="note-form" on:submit=submit>
                    <textarea
                        aria-label="A note for your team"
                        data-testid="note-input"
                        prop:value=move || text.get()
                        on:input=move |event| text.set(event_target_value(&event))
                    ></textarea>
                    <button type="submit" data-testid="note-add">"Add note"</button>
                </form>
            </Show>
            {move || problem.get().map(|why| view! { <p class="problem" role="alert">{why}</p> })}
        </section>
    }
}
