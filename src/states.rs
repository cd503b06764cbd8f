//! The panel's forms around the live chat: the details a merchant asks before the handoff, the
//! message left when nobody is online, and the rating once a chat ends. Each keeps the human
//! button in the header one click away.

use leptos::html;
use leptos::prelude::*;
use tandem_protocol::Rating;

use crate::handoff::{Handoff, Unanswered};
use crate::i18n::use_i18n;

/// A reference for an input that takes keyboard focus when it appears, so the next key goes
/// where the customer must answer.
fn focused_on_mount() -> NodeRef<html::Input> {
    let node = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            let _ = element.focus();
        }
    });
    node
}

/// A form in the conversation, handled here rather than submitted by the browser. A function
/// rather than a component: boxed children would cost the download for nothing.
fn panel_form(
    testid: &'static str,
    // `novalidate`: our own messages (announced, translated) rather than the browser's bubbles.
    novalidate: bool,
    on_submit: impl Fn() + 'static,
    content: impl IntoView + 'static,
) -> impl IntoView {
    view! {
        <form
            class="message from-system form"
            data-testid=testid
            novalidate=novalidate
            on:submit=move |event: web_sys::SubmitEvent| {
                event.prevent_default();
                on_submit();
            }
        >
            {content}
        </form>
    }
}

/// A form's error, announced when it appears.
#[component]
fn Problem(problem: RwSignal<Option<&'static str>>) -> impl IntoView {
    let i18n = use_i18n();
    move || problem.get().map(|key| view! { <p class="form-problem" role="alert">{i18n.t(key)}</p> })
}

/// The labelled email field both forms open with; it takes the focus when it appears.
#[component]
fn EmailField(email: RwSignal<String>, required: bool, testid: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let input = focused_on_mount();
    view! {
        <label class="field">
            <span>{i18n.tr("details.email")}</span>
            <input
                node_ref=input
                type="email"
                autocomplete="email"
                required=required
                data-testid=testid
                prop:value=move || email.get()
                on:input=move |event| email.set(event_target_value(&event))
            />
        </label>
    }
}

#[component]
pub fn DetailsForm(handoff: Handoff, required: bool) -> impl IntoView {
    let i18n = use_i18n();
    let email = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let submit = move |skip: bool| {
        let typed = email.get_untracked().trim().to_owned();
        let given = (!skip && !typed.is_empty()).then_some(typed);
        if let Err(key) = handoff.give_details(given) {
            problem.set(Some(key));
        }
    };
    view! {
        {panel_form("details-form", true, move || submit(false), view! {
            <p>{i18n.tr(if required { "details.prompt-required" } else { "details.prompt-optional" })}</p>
            <EmailField email required testid="details-email"/>
            <Problem problem/>
            <div class="form-actions">
                <button type="submit" class="primary" data-testid="details-continue">{i18n.tr("details.continue")}</button>
                {(!required).then(|| view! {
                    <button type="button" data-testid="details-skip" on:click=move |_| submit(true)>
                        {i18n.tr("details.skip")}
                    </button>
                })}
            </div>
        })}
    }
}

#[component]
pub fn LeaveMessageForm(handoff: Handoff, reply_within_hours: u32, why: Unanswered) -> impl IntoView {
    let i18n = use_i18n();
    let email = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let hours = reply_within_hours.to_string();
    let submit = move || {
        if let Err(key) = handoff.leave_message(email.get_untracked().trim().to_owned(), text.get_untracked())
        {
            problem.set(Some(key));
        }
    };
    view! {
        {panel_form("leave-message-form", true, submit, view! {
            <p>
                <strong>
                    {move || match &why {
                        Unanswered::Closed(hours) => i18n.f("offline.closed", &[("hours", hours)]),
                        Unanswered::NobodyOnline => i18n.t("offline.title").to_owned(),
                        Unanswered::Busy => i18n.t("offline.busy").to_owned(),
                    }}
                </strong>
            </p>
            <p>{move || i18n.f("offline.prompt", &[("hours", &hours)])}</p>
            <EmailField email required=true testid="leave-message-email"/>
            <TextField
                label="offline.message"
                text
                rows="3"
                maxlength=tandem_protocol::MAX_MESSAGE_CHARS
                required=true
                testid="leave-message-text"
            />
            <Problem problem/>
            <div class="form-actions">
                <button type="submit" class="primary" data-testid="leave-message-send">{i18n.tr("offline.send")}</button>
            </div>
        })}
    }
}

/// The labelled text box of a form, bound to `text`.
#[component]
fn TextField(
    /// The label's catalogue key.
    label: &'static str,
    text: RwSignal<String>,
    rows: &'static str,
    maxlength: usize,
    required: bool,
    testid: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <label class="field">
            <span>{i18n.tr(label)}</span>
            <textarea
                rows=rows
                maxlength=maxlength.to_string()
                required=required
                data-testid=testid
                prop:value=move || text.get()
                on:input=move |event| text.set(event_target_value(&event))
            ></textarea>
        </label>
    }
}

/// Once a chat with a person ends: a score from 1 to 5 and a comment, then thanks.
#[component]
pub fn RatingForm(handoff: Handoff) -> impl IntoView {
    let i18n = use_i18n();
    let score = RwSignal::new(None::<u8>);
    let comment = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let submit = move || {
        let Some(score) = score.get_untracked() else {
            problem.set(Some("rating.pick"));
            return;
        };
        let text = comment.get_untracked().trim().to_owned();
        handoff.rate(Rating { score, comment: (!text.is_empty()).then_some(text) });
    };
    let thanks = NodeRef::<html::P>::new();
    Effect::new(move |_| {
        if let Some(thanks) = thanks.get() {
            let _ = thanks.focus();
        }
    });
    view! {
        <Show
            when=move || !handoff.rated.get()
            fallback=move || view! {
                // Takes the focus from the send button that just went away.
                <p node_ref=thanks tabindex="-1" class="message from-system" role="status" data-testid="rating-thanks">
                    {i18n.tr("rating.thanks")}
                </p>
            }
        >
            {panel_form("rating-form", false, submit, view! {
                <RatingChoices score/>
                <TextField label="rating.comment" text=comment rows="2" maxlength=1000 required=false testid="rating-comment"/>
                <Problem problem/>
                <div class="form-actions">
                    <button type="submit" class="primary" data-testid="rating-send">{i18n.tr("rating.send")}</button>
                </div>
            })}
        </Show>
    }
}

/// Once a chat with a person ends, on a server that sends email: a box to tick for a
/// transcript, then the address (the one given before, if any) and a send button; then where
/// it went.
#[component]
pub fn TranscriptForm(handoff: Handoff) -> impl IntoView {
    let i18n = use_i18n();
    let wanted = RwSignal::new(false);
    let email = RwSignal::new(handoff.transcript_address());
    let problem = RwSignal::new(None::<&'static str>);
    let sent_to = RwSignal::new(None::<String>);
    // One request at a time: a second press would spend one of the chat's three.
    let sending = StoredValue::new(false);
    let submit = move || {
        if sending.get_value() {
            return;
        }
        let to = email.get_untracked().trim().to_owned();
        problem.set(None);
        sending.set_value(true);
        handoff.send_transcript(to.clone(), move |sent| {
            sending.set_value(false);
            match sent {
                Ok(()) => sent_to.set(Some(to)),
                Err(key) => problem.set(Some(key)),
            }
        });
    };
    let sent = NodeRef::<html::P>::new();
    Effect::new(move |_| {
        if let Some(sent) = sent.get() {
            let _ = sent.focus();
        }
    });
    move || {
        match sent_to.get() {
        // Takes the focus from the send button that just went away, and is read out.
        Some(to) => view! {
            <p node_ref=sent tabindex="-1" class="message from-system" role="status" data-testid="transcript-sent">
                {i18n.f("transcript.sent", &[("email", &to)])}
            </p>
        }
        .into_any(),
        None => panel_form("transcript-form", true, submit, view! {
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="transcript-wanted"
                    on:change=move |event| wanted.set(event_target_checked(&event))
                />
                <span>{i18n.tr("transcript.ask")}</span>
            </label>
            <Show when=move || wanted.get()>
                <EmailField email required=true testid="transcript-email"/>
                <Problem problem/>
                <div class="form-actions">
                    <button type="submit" class="primary" data-testid="transcript-send">{i18n.tr("transcript.send")}</button>
                </div>
            </Show>
        })
        .into_any(),
    }
    }
}

/// The five scores, as radio buttons; the first takes the focus.
#[component]
fn RatingChoices(score: RwSignal<Option<u8>>) -> impl IntoView {
    let i18n = use_i18n();
    // The composer just went away with the chat: keep the keyboard in the conversation.
    let first_choice = focused_on_mount();
    view! {
        <fieldset class="rating">
            <legend>{i18n.tr("rating.question")}</legend>
            {(1..=5u8).map(|n| view! {
                <label class="rating-choice">
                    <input
                        node_ref=if n == 1 { first_choice } else { NodeRef::new() }
                        type="radio"
                        name="tandem-rating"
                        value=n.to_string()
                        data-testid="rating-choice"
                        aria-label=move || i18n.f("rating.score", &[("n", &n.to_string())])
                        on:change=move |_| score.set(Some(n))
                    />
                    <span aria-hidden="true">{n}</span>
                </label>
            }).collect_view()}
        </fieldset>
    }
}

/// Up to two initials of a name ("Anna Berg" → "AB"), for the agent's badge.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("Anna Berg"), "AB");
        assert_eq!(initials("anna"), "A");
        assert_eq!(initials("Åsa Öberg Lind"), "ÅÖ");
        assert_eq!(initials("  "), "");
    }
}
