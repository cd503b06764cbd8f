use leptos::attr::Attribute;
use leptos::prelude::*;
use web_sys::{Event, KeyboardEvent};

/// What is being typed in a composer. The other side hears that typing started when the draft
/// stops being empty, and that it stopped when it is empty again or sent: once per change, not
/// once per key.
#[derive(Debug, Clone, Copy)]
pub struct Draft {
    text: RwSignal<String>,
    typing: Callback<bool>,
}

impl Draft {
    /// `typing` hears `true` when typing starts and `false` when it stops.
    pub fn new(typing: Callback<bool>) -> Self {
        Self::with_text(RwSignal::new(String::new()), typing)
    }

    /// A draft kept in `text`, which outlives it: a composer drawn anew for another addressee
    /// (the bot, then the person asked for) goes on with what was being typed.
    pub fn with_text(text: RwSignal<String>, typing: Callback<bool>) -> Self {
        Self { text, typing }
    }

    /// The text, tracked (the textarea's value).
    pub fn text(self) -> String {
        self.text.get()
    }

    /// The text as it is now, untracked.
    pub fn text_untracked(self) -> String {
        self.text.get_untracked()
    }

    /// The textarea's `input` event.
    pub fn input(self, event: &Event) {
        let was_empty = self.text.with_untracked(String::is_empty);
        let value = event_target_value(event);
        let is_empty = value.is_empty();
        self.text.set(value);
        if was_empty != is_empty {
            self.typing.run(!is_empty);
        }
    }

    /// What binds a composer's textarea to this draft, spread onto it (`{..draft.textarea(submit)}`):
    /// two rows, the protocol's length limit, the text, typing, and Enter to `submit`.
    pub fn textarea(self, submit: impl Fn() + Clone + Send + 'static) -> impl Attribute {
        view! {
            <{..}
                rows="2"
                maxlength=tandem_protocol::MAX_MESSAGE_CHARS.to_string()
                prop:value=move || self.text()
                on:input=move |event| self.input(&event)
                on:keydown=move |event| enter_sends(&event, submit.clone())
            />
        }
    }

    /// Replaces the text with `text` (a suggestion taken), as if typed.
    pub fn replace(self, text: String) {
        let was_empty = self.text.with_untracked(String::is_empty);
        let is_empty = text.is_empty();
        self.text.set(text);
        if was_empty != is_empty {
            self.typing.run(!is_empty);
        }
    }

    /// Hands the text to `send`; once it is taken, the draft empties and typing has stopped.
    pub fn submit<E>(self, send: impl FnOnce(String) -> Result<(), E>) -> Result<(), E> {
        send(self.text.get_untracked())?;
        self.typing.run(false);
        self.text.set(String::new());
        Ok(())
    }
}

/// Enter sends, Shift+Enter starts a new line: the textarea's `keydown` in both composers.
pub fn enter_sends(event: &KeyboardEvent, submit: impl FnOnce()) {
    if event.key() == "Enter" && !event.shift_key() {
        event.prevent_default();
        submit();
    }
}
