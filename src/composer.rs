//! Where the customer types: to the bot, or to the person once one is asked for.

use leptos::html;
use leptos::prelude::*;
use tandem_browser::Draft;

use crate::live::Drawn;
use crate::{BotChat, Handoff, Phase, text_problem, use_i18n};

/// Whom the composer writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addressee {
    Person,
    Bot,
    Nobody,
}

/// The panel's composer for the phase the handoff is in: to the person while one is asked for,
/// to the bot when there is one and no person is being asked for, else none. It is rebuilt only
/// when whom it writes to changes, not on every phase update (a new place in the queue, the
/// agent joining, a reconnect), so a half-typed message stays where the customer left it.
#[component]
pub fn PanelComposer(handoff: Handoff, bot: BotChat) -> impl IntoView {
    // One text for every composer drawn here, starting with what was typed into the loader's
    // shell before the app ran (see crate::shell); the first composer drawn takes its focus and
    // sends it if Enter was pressed there.
    let carried = crate::shell::take_carried();
    let text = RwSignal::new(carried.as_ref().map(|carried| carried.text.clone()).unwrap_or_default());
    let carried = StoredValue::new(carried.map(|carried| (carried.focused, carried.send)));
    let addressee = Memo::new(move |_| match handoff.phase.get() {
        Phase::Waiting(_) | Phase::Connected { .. } => Addressee::Person,
        Phase::Idle | Phase::Ended | Phase::Failed(_) | Phase::MessageLeft { .. } if bot.available() => {
            Addressee::Bot
        }
        Phase::Idle
        | Phase::Ended
        | Phase::Failed(_)
        | Phase::MessageLeft { .. }
        | Phase::Starting
        | Phase::Details { .. }
        | Phase::Offline { .. } => Addressee::Nobody,
    });
    move || match addressee.get() {
        Addressee::Person => {
            let send = Callback::new(move |text: String| handoff.send(text));
            let typing = Callback::new(move |typing| handoff.typing(typing));
            Some(view! { <Composer send typing to_person=Some(handoff) text carried/> })
        }
        Addressee::Bot => {
            let send = Callback::new(move |text: String| {
                tandem_protocol::validate_text(&text).map_err(|_| text_problem(&text))?;
                bot.say(text, handoff);
                Ok(())
            });
            Some(view! { <Composer send typing=Callback::new(|_| {}) to_person=None text carried/> })
        }
        Addressee::Nobody => None,
    }
}

#[component]
fn Composer(
    /// Takes the text; an error is the catalogue key of why it was refused.
    send: Callback<String, Result<(), &'static str>>,
    /// The customer started (`true`) or stopped typing.
    typing: Callback<bool>,
    /// Writing to the person of this handoff: the composer takes keyboard focus on appearing
    /// (a person was just asked for; with the bot, focus stays on the human button), and has
    /// the attach and end buttons, which the live module draws.
    to_person: Option<Handoff>,
    /// The panel's draft, kept across composers.
    text: RwSignal<String>,
    /// From the shell, for the first composer: (it had the focus, Enter was pressed).
    carried: StoredValue<Option<(bool, bool)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let draft = Draft::with_text(text, typing);
    let problem = RwSignal::new(None::<&'static str>);
    let input = NodeRef::<html::Textarea>::new();
    let (focus_carried, send_carried) = carried.try_update_value(Option::take).flatten().unwrap_or_default();
    Effect::new(move |_| {
        if let Some(input) = input.get()
            && (to_person.is_some() || focus_carried)
        {
            let _ = input.focus();
        }
    });
    let submit = move || problem.set(draft.submit(|text| send.run(text)).err());
    if send_carried {
        submit();
    }
    view! {
        <form
            class="composer"
            part="composer"
            on:submit=move |event: web_sys::SubmitEvent| {
                event.prevent_default();
                submit();
            }
        >
            {to_person.map(|handoff| move || handoff.drawn_live(Drawn::Attach))}
            <textarea
                node_ref=input
                class="composer-input"
                part="composer-input"
                data-testid="composer-input"
                aria-label=i18n.tr("composer.label")
                {..draft.textarea(submit)}
            ></textarea>
            <button type="submit" class="composer-send" part="send-button" data-testid="composer-send">{i18n.tr("composer.send")}</button>
        </form>
        {move || problem.get().map(|why| view! { <p class="composer-problem" role="alert">{i18n.t(why)}</p> })}
        {to_person.map(|handoff| move || handoff.drawn_live(Drawn::End))}
    }
}

/// Ends the conversation with the person (the live module's).
pub(crate) fn end_button(handoff: Handoff) -> AnyView {
    view! {
        <button class="end-chat" data-testid="end-chat" on:click=move |_| handoff.end()>
            {use_i18n().tr("end-chat")}
        </button>
    }
    .into_any()
}

/// The button that picks files to send (images and PDFs): the browser's own file input, in
/// the tab order and labelled, drawn as the paperclip it sits in (a click on the label opens the
/// picker, as does Enter or Space on the focused input). The live module's.
pub(crate) fn attach_button(handoff: Handoff) -> AnyView {
    view! {
        <label class="composer-attach" part="attach-button">
            <input
                type="file"
                class="file-input"
                multiple
                accept="image/png,image/jpeg,image/webp,application/pdf"
                data-testid="file-input"
                aria-label=use_i18n().tr("file.attach")
                on:change=move |event| {
                    let input: web_sys::HtmlInputElement = event_target(&event);
                    handoff.send_files(tandem_browser::chosen_files(&input));
                    input.set_value("");
                }
            />
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                <path fill="currentColor" d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V6a3 3 0 0 1 6 0v9.5a1.5 1.5 0 0 1-3 0V7H9v8.5a3 3 0 0 0 6 0V6a4.5 4.5 0 0 0-9 0v10.5a6 6 0 0 0 12 0v-10z"/>
            </svg>
        </label>
    }
    .into_any()
}
