//! The panel's forms around the live chat: the details a merchant asks before the handoff, the
//! message left when nobody is online, and the rating once a chat ends. Each keeps the human
//! button in the header one click away.

use leptos::html;
use leptos::prelude::*;
use tandem_protocol::Rating;

use crate::handoff::Handoff;
use crate::i18n::use_i18n;

/// Takes keyboard focus when it appears, so the next key goes where the customer must answer.
fn focus_on_mount(node: NodeRef<html::Input>) {
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            let _ = element.focus();
        }
    });
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
    let input = NodeRef::<html::Input>::new();
    focus_on_mount(input);
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
        <form
            class="message from-system form"
            data-testid="details-form"
            // Our own messages (announced, translated) rather than the browser's bubbles.
            novalidate=true
            on:submit=move |event: web_sys::SubmitEvent| {
                event.prevent_default();
                submit(false);
            }
        >
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
        </form>
    }
}

#[component]
pub fn LeaveMessageForm(
    handoff: Handoff,
    reply_within_hours: u32,
    /// The business hours, when it is outside them.
    closed: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let email = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let hours = reply_within_hours.to_string();
    view! {
        <form
            class="message from-system form"
            data-testid="leave-message-form"
            novalidate=true
            on:submit=move |event: web_sys::SubmitEvent| {
                event.prevent_default();
                if let Err(key) = handoff.leave_message(email.get_untracked().trim().to_owned(), text.get_untracked()) {
                    problem.set(Some(key));
                }
            }
        >
            <p>
                <strong>
                    {move || match &closed {
                        Some(hours) => i18n.f("offline.closed", &[("hours", hours)]),
                        None => i18n.t("offline.title").to_owned(),
                    }}
                </strong>
            </p>
            <p>{move || i18n.f("offline.prompt", &[("hours", &hours)])}</p>
            <EmailField email required=true testid="leave-message-email"/>
            <label class="field">
                <span>{i18n.tr("offline.message")}</span>
                <textarea
                    rows="3"
                    maxlength=tandem_protocol::MAX_MESSAGE_CHARS.to_string()
                    required=true
                    data-testid="leave-message-text"
                    prop:value=move || text.get()
                    on:input=move |event| text.set(event_target_value(&event))
                ></textarea>
            </label>
            <Problem problem/>
            <div class="form-actions">
                <button type="submit" class="primary" data-testid="leave-message-send">{i18n.tr("offline.send")}</button>
            </div>
        </form>
    }
}

#[component]
pub fn RatingForm(handoff: Handoff) -> impl IntoView {
    let i18n = use_i18n();
    let score = RwSignal::new(None::<u8>);
    let comment = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    // The composer just went away with the chat: keep the keyboard in the conversation.
    let first_choice = NodeRef::<html::Input>::new();
    focus_on_mount(first_choice);
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
            <form
                class="message from-system form"
                data-testid="rating-form"
                on:submit=move |event: web_sys::SubmitEvent| {
                    event.prevent_default();
                    let Some(score) = score.get_untracked() else {
                        problem.set(Some("rating.pick"));
                        return;
                    };
                    let text = comment.get_untracked().trim().to_owned();
                    handoff.rate(Rating { score, comment: (!text.is_empty()).then_some(text) });
                }
            >
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
                <label class="field">
                    <span>{i18n.tr("rating.comment")}</span>
                    <textarea
                        rows="2"
                        maxlength="1000"
                        data-testid="rating-comment"
                        prop:value=move || comment.get()
                        on:input=move |event| comment.set(event_target_value(&event))
                    ></textarea>
                </label>
                <Problem problem/>
                <div class="form-actions">
                    <button type="submit" class="primary" data-testid="rating-send">{i18n.tr("rating.send")}</button>
                </div>
            </form>
        </Show>
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
