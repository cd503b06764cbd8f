//! The conversation in the panel: the bot's lines, the person's messages, what is still being
//! sent, and what the handoff's phase adds below them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::{MessagesThenPending, forget_file, size_text};
use tandem_protocol::{Attachment, Author, ChatMessage, QueueStatus, TranscriptSpeaker, WidgetConfig};

use crate::bot_chat::STARTERS;
use crate::live::Drawn;
use crate::{BotChat, BotLine, ConfigState, Failure, Handoff, I18n, Locale, Phase, states, use_i18n};

/// The conversation, in order: the greeting and the bot's lines, the messages with the person,
/// then where the handoff stands.
#[component]
pub fn MessageList(
    merchant_config: ReadSignal<ConfigState>,
    handoff: Handoff,
    bot: BotChat,
) -> impl IntoView {
    let i18n = use_i18n();
    // The offer is drawn again only when it comes or goes (a memo, as `Show` would).
    let offered = Memo::new(move |_| bot.offer.get().is_some() && !handoff.phase.get().is_live());
    view! {
        <div class="messages" part="messages" role="log" aria-live="polite" data-testid="messages">
            <p class="message from-bot">{i18n.tr("bot.greeting")}</p>
            // The flow's starter topics first (an answer, or a person, with taps alone), drawn as
            // a line of the bot's with only quick replies. Lines are only ever added (the
            // starters come first, with the flow, before the bot can answer anything), so an
            // unkeyed list keeps every drawn line's nodes, and the keyed list's code stays out of
            // the download.
            {move || {
                bot.lines_after_starters()
                    .into_iter()
                    .map(|line| view! { <BotLineView line bot handoff/> })
                    .collect_view()
            }}
            {move || offered.get().then(|| view! {
                <p class="message from-bot" data-testid="bot-offer">
                    <button class="quick-reply" on:click=move |_| bot.accept_offer(handoff)>
                        {i18n.tr("bot.offer")}
                    </button>
                </p>
            })}
            {move || handoff.drawn_live(Drawn::Conversation)}
            <PhaseNotice merchant_config handoff/>
            {move || handoff.notice.get().map(|notice| view! {
                <p class="message from-system" data-testid="notice">{notice}</p>
            })}
        </div>
    }
}

/// The conversation with the person (the live module's, whose socket brings it): the stored
/// messages, what is still being sent, a file on its way, "Seen" and the person typing. Until
/// the module is here (a conversation resumed as the page loads) none of it shows, and what
/// the customer sends meanwhile waits in the outbox.
fn with_the_person(handoff: Handoff) -> AnyView {
    let i18n = use_i18n();
    view! {
        <MessagesThenPending
            messages=move || handoff.messages.get()
            pending=move || handoff.outbox.waiting_for(&())
            show_message=move |message| view! { <MessageBubble message handoff/> }
            show_pending=|pending| view! {
                <div class="message from-customer pending" data-testid="pending-message">
                    <span class="author">{use_i18n().tr(if pending.not_sent { "you.not-sent" } else { "you.sending" })}</span>
                    <p class="text">{pending.text}</p>
                </div>
            }
        />
        {move || handoff.uploading.get().map(|(name, percent)| view! {
            <p class="message from-customer pending" role="status" data-testid="upload">
                <label>
                    {i18n.f("file.sending", &[("name", &name)])}
                    <progress max="100" value=percent.to_string()></progress>
                </label>
            </p>
        })}
        // Under the customer's last message, once the person has read it.
        {move || seen_by_the_agent(handoff).then(|| view! {
            <p class="seen" data-testid="seen">{i18n.tr("you.seen")}</p>
        })}
        <Show when=move || handoff.agent_typing.get()>
            <p class="typing" data-testid="agent-typing">
                {move || {
                    let agent = handoff.phase.with(|phase| phase.agent().map(str::to_owned));
                    let agent = agent.unwrap_or_else(|| i18n.t("human.the-agent").to_owned());
                    i18n.f("typing", &[("agent", &agent)])
                }}
            </p>
        </Show>
    }
    .into_any()
}

/// The stored conversation ends with the customer's message, and the person has read it.
fn seen_by_the_agent(handoff: Handoff) -> bool {
    let read = handoff.agent_read.get();
    handoff
        .messages
        .with(|messages| messages.last().is_some_and(|m| m.author == Author::Customer && m.seq <= read))
}

/// What the handoff's phase adds below the conversation: where the queue stands, the forms
/// around the chat, how it ended, or another way to reach a person. The list's one question
/// about the phase; what each phase shows is built in this closure (texts included), so that a
/// change of language rebuilds it as a whole. The phases only the live chat brings about are
/// drawn by its module ([`live_phase`]); until it is here (a conversation resumed as the page
/// loads), the customer reads that a person is being found.
#[component]
fn PhaseNotice(merchant_config: ReadSignal<ConfigState>, handoff: Handoff) -> impl IntoView {
    let i18n = use_i18n();
    let finding = move || {
        view! {
            <p class="message from-system" data-testid="queue-status">{i18n.t("queue.finding")}</p>
        }
        .into_any()
    };
    move || match handoff.phase.get() {
        Phase::Idle | Phase::Connected { .. } => None,
        Phase::Starting => Some(finding()),
        Phase::Failed(why) => Some(
            human_contact(i18n, why, &merchant_config.with(ConfigState::or_fallback), handoff.api_origin())
                .into_any(),
        ),
        _ => Some(handoff.drawn_live(Drawn::Phase(merchant_config)).unwrap_or_else(finding)),
    }
}

/// The live module's views (see [`Drawn`]).
pub fn live_view(handoff: Handoff, what: Drawn) -> AnyView {
    match what {
        Drawn::Phase(merchant_config) => live_phase(merchant_config, handoff),
        Drawn::Talking(agent) => crate::panel::talking(agent),
        Drawn::Conversation => with_the_person(handoff),
        Drawn::Attach => crate::composer::attach_button(handoff),
        Drawn::End => crate::composer::end_button(handoff),
        Drawn::Reconnecting => crate::panel::reconnecting(handoff),
    }
}

/// What [`PhaseNotice`] shows for the phases the live chat brings about.
fn live_phase(merchant_config: ReadSignal<ConfigState>, handoff: Handoff) -> AnyView {
    let i18n = use_i18n();
    match handoff.phase.get_untracked() {
        Phase::Waiting(queue) => view! {
            <p class="message from-system" data-testid="queue-status">{queue_text(i18n.locale(), queue)}</p>
            <button type="button" class="quick-reply" data-testid="leave-message-instead" on:click=move |_| handoff.leave_message_instead()>
                {i18n.t("queue.leave-message")}
            </button>
        }.into_any(),
        Phase::Ended => view! {
            <p class="message from-system" data-testid="chat-ended">{i18n.t("ended")}</p>
            <Show when=move || handoff.rateable.with(Option::is_some)>
                <states::RatingForm handoff/>
                {merchant_config.with_untracked(|config| config.or_fallback().transcripts).then(|| view! {
                    <states::TranscriptForm handoff/>
                })}
            </Show>
        }.into_any(),
        Phase::Details { required } => view! { <states::DetailsForm handoff required/> }.into_any(),
        Phase::Offline { reply_within_hours, why } => {
            view! { <states::LeaveMessageForm handoff reply_within_hours why/> }.into_any()
        }
        Phase::MessageLeft { email, reply_within_hours } => view! {
            <p class="message from-system" role="status" data-testid="message-left">
                {i18n.f("offline.sent", &[("email", &email), ("hours", &reply_within_hours.to_string())])}
            </p>
        }.into_any(),
        Phase::Idle | Phase::Starting | Phase::Connected { .. } | Phase::Failed(_) => ().into_any(),
    }
}

/// Asking for a person failed: why, and the merchant's support email or contact page instead.
fn human_contact(i18n: I18n, why: Failure, config: &WidgetConfig, api_origin: &str) -> impl IntoView {
    let contact_url = format!("{api_origin}/contact/{}", config.merchant_id);
    view! {
        <p class="message from-system" data-testid="human-contact">
            {i18n.t(why.key())} " "
            {match config.support_email.clone() {
                Some(email) => {
                    let (before, after) = i18n.locale().around("contact.email", "email");
                    view! {
                        {before}
                        <a href=format!("mailto:{email}")>{email.clone()}</a>
                        {after}
                    }
                    .into_any()
                }
                None => view! {
                    <a href=contact_url target="_blank" rel="noopener noreferrer">
                        {i18n.t("contact.page")}
                    </a>
                }
                .into_any(),
            }}
        </p>
    }
}

fn queue_text(locale: Locale, queue: Option<QueueStatus>) -> String {
    match queue {
        Some(QueueStatus { position: 1, estimated_wait_secs }) => {
            locale.format("queue.next", &[("wait", &minutes(locale, estimated_wait_secs))])
        }
        Some(QueueStatus { position, estimated_wait_secs }) => locale.format(
            "queue.position",
            &[("position", &position.to_string()), ("wait", &minutes(locale, estimated_wait_secs))],
        ),
        None => locale.text("queue.waiting").to_owned(),
    }
}

fn minutes(locale: Locale, secs: u32) -> String {
    match secs.div_ceil(60) {
        0 | 1 => locale.text("wait.minute").to_owned(),
        n => locale.format("wait.minutes", &[("n", &n.to_string())]),
    }
}

#[component]
fn MessageBubble(message: ChatMessage, handoff: Handoff) -> impl IntoView {
    let (class, author) = match &message.author {
        Author::Customer => ("message from-customer", use_i18n().t("you").to_owned()),
        Author::Agent { name } => ("message from-agent", name.clone()),
    };
    view! {
        <div class=class part="message" data-testid="message" data-seq=message.seq.to_string()>
            <span class="author">{author}</span>
            // Text, never markup.
            {message.attachment.is_none().then(|| view! { <p class="text">{message.text}</p> })}
            {message.attachment.map(|file| view! { <FileView file handoff/> })}
        </div>
    }
}

/// A file in the chat: a link that downloads it, with a preview of a picture. Its bytes are
/// fetched with the customer's token and shown from the browser's memory (a `blob:` URL),
/// always as an image or a download, never as a page.
#[component]
fn FileView(file: Attachment, handoff: Handoff) -> impl IntoView {
    let url = RwSignal::new(None::<String>);
    let id = file.id.clone();
    spawn_local(async move {
        // A bubble gone before its file arrived (the conversation replaced) frees it at once.
        if let Some(Some(unused)) = url.try_set(handoff.file_url(id).await) {
            forget_file(&unused);
        }
    });
    on_cleanup(move || {
        if let Some(Some(held)) = url.try_get_untracked() {
            forget_file(&held);
        }
    });
    let (image, label) = (file.kind.is_image(), format!("{} ({})", file.name, size_text(file.size)));
    // Its name until its bytes are in (and should they never come); then a link to them, with
    // the picture in it. Drawn as a whole each time (one view, rather than reactive attributes).
    move || {
        let url = url.get();
        let preview =
            url.clone().filter(|_| image).map(|url| view! { <img class="file-preview" alt="" src=url/> });
        view! {
            <a class="file" part="file" data-testid="file" href=url download=file.name.clone()>
                {preview}
                {label.clone()}
            </a>
        }
    }
}

#[component]
fn BotLineView(line: BotLine, bot: BotChat, handoff: Handoff) -> impl IntoView {
    let i18n = use_i18n();
    // `data-from` names the speaker for scripts and tests, whatever the language.
    let (class, from, author) = match line.from {
        _ if line.id == STARTERS => ("message from-bot starters", "Bot", "bot.name"),
        TranscriptSpeaker::Bot => ("message from-bot", "Bot", "bot.name"),
        TranscriptSpeaker::Customer => ("message from-customer", "You", "you"),
    };
    let testid = if line.id == STARTERS { "starters" } else { "bot-line" };
    view! {
        <div class=class part="message" data-testid=testid data-from=from>
            <span class="author">{i18n.tr(author)}</span>
            <p class="text">{line.text}</p>
            {(!line.links.is_empty()).then(|| view! {
                <ul class="links">
                    {line.links.into_iter().map(|(label, url)| view! {
                        <li><a href=url target="_blank" rel="noopener noreferrer nofollow">{label}</a></li>
                    }).collect_view()}
                </ul>
            })}
            {(!line.quick_replies.is_empty()).then(|| view! {
                <QuickReplies replies=line.quick_replies bot handoff/>
            })}
        </div>
    }
}

/// The bot's suggestions under its line: each sends its label and chooses its intent.
#[component]
fn QuickReplies(replies: Vec<(String, String)>, bot: BotChat, handoff: Handoff) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="quick-replies" role="group" aria-label=i18n.tr("bot.suggestions")>
            {replies.into_iter().map(|(label, intent)| {
                let text = label.clone();
                view! {
                    <button
                        class="quick-reply"
                        part="quick-reply"
                        data-testid="quick-reply"
                        on:click=move |_| bot.choose(text.clone(), &intent, handoff)
                    >
                        {label}
                    </button>
                }
            }).collect_view()}
        </div>
    }
}
