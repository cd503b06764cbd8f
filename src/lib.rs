//! Tandem's customer widget.
//!
//! [`mount`] is the entry: it renders the widget into a given root with a given [`MountConfig`].
//! On a merchant's page the loader (`loader/tandem.js`) has already drawn a placeholder launcher
//! in a shadow root and hands that root over through [`boot`]; served on its own (full page, as
//! in an isolated frame) the widget fills the document body instead.

mod boot;
mod bot_chat;
pub mod frame;
mod handoff;
mod i18n;
mod merchant_config;
mod page_api;
mod states;
mod theme;

use leptos::html;
use leptos::prelude::*;
use tandem_browser::Connection;
use tandem_protocol::{Author, ChatMessage, HandoffReason, MerchantId, QueueStatus, TranscriptSpeaker};
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

pub use boot::boot;
pub use bot_chat::{BotChat, BotLine};
pub use handoff::{Failure, Handoff, Phase};
pub use i18n::{I18n, Locale, use_i18n};
pub use merchant_config::{ConfigState, fallback_config};
pub use page_api::{Controls, PageEvent, PageEvents};

/// How the widget is placed on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A launcher button in the corner that opens a floating panel.
    Launcher {
        /// The customer already clicked the placeholder launcher while the app loaded.
        open_at_start: bool,
        /// The placeholder launcher had keyboard focus; the real one takes it over.
        focus_launcher: bool,
    },
    /// The panel fills its root and cannot be closed (the hosted page).
    FullPage,
    /// The panel fills an iframe that the loader opens and closes on the merchant's page
    /// (frame mode, see [`frame`]).
    Frame,
}

/// Everything the widget needs to start.
#[derive(Debug, Clone)]
pub struct MountConfig {
    pub merchant: MerchantId,
    /// Origin of the Tandem server, e.g. `https://chat.example.com`.
    pub api_origin: String,
    pub layout: Layout,
    /// The loader's hook for the page's `window.Tandem` calls (see [`page_api`]).
    pub attach_api: Option<js_sys::Function>,
    /// The merchant's own launcher text (`label` on `tandem-chat`), instead of "Chat with us".
    pub launcher_label: Option<String>,
    /// What the answering agent should know (`skill` on `tandem-chat`), e.g. `billing`.
    pub skill: Option<String>,
}

/// Renders the widget into `root` for as long as the page lives.
pub fn mount(root: &HtmlElement, config: MountConfig) {
    let take_focus = matches!(config.layout, Layout::Launcher { focus_launcher: true, .. });
    let events = PageEvents::for_root(root);
    // The host element on a merchant's page; the body full page.
    let host = root
        .get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .ok()
        .and_then(|shadow| shadow.host().dyn_into::<HtmlElement>().ok())
        .unwrap_or_else(|| root.clone());
    theme::follow_visual_viewport(&host);
    let handle = leptos::mount::mount_to(root.clone(), move || view! { <Widget config events/> });
    // Dropping the handle would unmount the widget; it lives as long as the page.
    handle.forget();
    // Rendering is synchronous: move focus now, so that no keystroke falls between the
    // placeholder's removal and the real launcher.
    if take_focus && let Ok(Some(launcher)) = root.query_selector("[data-testid=launcher]") {
        let _ = launcher.unchecked_into::<HtmlElement>().focus();
    }
}

/// The whole widget: the launcher and, when open, the panel.
#[component]
pub fn Widget(config: MountConfig, events: PageEvents) -> impl IntoView {
    let i18n = I18n::new();
    provide_context(i18n);
    let open_at_start = matches!(config.layout, Layout::Launcher { open_at_start: true, .. });
    let controls = Controls { open: RwSignal::new(open_at_start), i18n, identity: RwSignal::new(None) };
    let merchant_config = merchant_config::load(config.api_origin.clone(), config.merchant.clone());
    // Lives as long as the widget, so closing the panel does not end a conversation.
    let handoff =
        Handoff::new(config.api_origin.clone(), config.merchant.clone(), i18n, events, controls.identity);
    handoff.set_skill(config.skill.clone());
    if let Some(attach) = &config.attach_api {
        page_api::attach(attach, controls);
    }
    if config.layout == Layout::Frame {
        frame::attach(controls, handoff.has_saved_conversation());
    }
    // The merchant's settings apply once its configuration has loaded.
    Effect::new(move |_| {
        if let ConfigState::Loaded(loaded) = merchant_config.get() {
            i18n.merchant.set(loaded.locale.clone());
            handoff.ask_email.set(loaded.ask_email);
        }
    });
    let bot = BotChat::load(&config.api_origin, &config.merchant, i18n);
    match config.layout {
        Layout::FullPage => view! {
            <div class="tandem tandem-full-page" lang=move || i18n.locale().tag() dir=move || i18n.locale().dir()>
                <Panel merchant_config=merchant_config api_origin=config.api_origin on_close=None handoff bot/>
            </div>
        }
        .into_any(),
        Layout::Frame => {
            // The loader hides the frame and returns focus to its launcher.
            let close = Callback::new(move |()| {
                controls.open.set(false);
                frame::post("close", &[]);
            });
            view! {
                <div class="tandem tandem-full-page" lang=move || i18n.locale().tag() dir=move || i18n.locale().dir()>
                    <Show when=move || controls.open.get()>
                        <Panel merchant_config=merchant_config api_origin=config.api_origin.clone() on_close=Some(close) handoff bot/>
                    </Show>
                </div>
            }
            .into_any()
        }
        Layout::Launcher { .. } => view! {
            <LauncherAndPanel
                merchant_config=merchant_config
                api_origin=config.api_origin
                label=config.launcher_label
                open=controls.open
                handoff
                bot
            />
        }
        .into_any(),
    }
}

#[component]
fn LauncherAndPanel(
    merchant_config: ReadSignal<ConfigState>,
    api_origin: String,
    /// Also opened and closed by the page's `Tandem.open()` / `close()` / `toggle()`.
    open: RwSignal<bool>,
    label: Option<String>,
    handoff: Handoff,
    bot: BotChat,
) -> impl IntoView {
    let i18n = use_i18n();
    let launcher = NodeRef::<html::Button>::new();
    // The panel shows once the merchant's name is known (or known to be unavailable), so that
    // its first frame already has the header; until then the launcher reports that it is busy.
    let panel_shown = move || open.get() && merchant_config.with(|state| !state.is_loading());
    let close = Callback::new(move |()| {
        open.set(false);
        if let Some(button) = launcher.get_untracked() {
            let _ = button.focus();
        }
    });

    view! {
        <div class="tandem" lang=move || i18n.locale().tag() dir=move || i18n.locale().dir()>
            <Show when=panel_shown>
                <Panel merchant_config=merchant_config api_origin=api_origin.clone() on_close=Some(close) handoff bot/>
            </Show>
            <button
                node_ref=launcher
                class="launcher"
                part="launcher"
                data-testid="launcher"
                aria-haspopup="dialog"
                aria-controls="tandem-panel"
                aria-expanded=move || open.get().to_string()
                aria-busy=move || (open.get() && !panel_shown()).to_string()
                on:click=move |_| open.update(|open| *open = !*open)
            >
                <LauncherIcon/>
                <span>
                    {move || match (open.get(), &label) {
                        (false, Some(label)) => label.clone(),
                        (open, _) => i18n.t(if open { "launcher.close" } else { "launcher.open" }).to_owned(),
                    }}
                </span>
            </button>
        </div>
    }
}

#[component]
fn LauncherIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>
        </svg>
    }
}

/// The chat panel. Its header always carries the merchant's name and the "Talk to a human"
/// button (or, once a person is on the way, where that stands): a customer is never more than
/// one click from a person.
#[component]
pub fn Panel(
    merchant_config: ReadSignal<ConfigState>,
    api_origin: String,
    /// Closes the panel; `None` where it cannot be closed (full page).
    on_close: Option<Callback<()>>,
    handoff: Handoff,
    bot: BotChat,
) -> impl IntoView {
    let i18n = use_i18n();
    let human_button = NodeRef::<html::Button>::new();
    let config = move || merchant_config.with(ConfigState::or_fallback);
    // A stored value is `Copy`, so the closures below can share it.
    let api_origin = StoredValue::new(api_origin);
    let contact_url = move || format!("{}/contact/{}", api_origin.read_value(), config().merchant_id);
    let panel = NodeRef::<html::Section>::new();
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            theme::warn_on_low_contrast(&panel.parent_element().unwrap_or_else(|| panel.clone().into()));
        }
    });
    // Keyboard users land on the one control that always matters.
    Effect::new(move |_| {
        if let Some(button) = human_button.get() {
            let _ = button.focus();
        }
    });
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape"
            && let Some(close) = on_close
        {
            event.stop_propagation();
            close.run(());
        }
    };
    let ask_for_person = move |_| handoff.start(bot.transcript(), HandoffReason::Button, None);
    let agent_name = move || match handoff.phase.get() {
        Phase::Connected { agent } => agent,
        _ => i18n.t("human.the-agent").to_owned(),
    };

    view! {
        <section
            node_ref=panel
            id="tandem-panel"
            class="panel"
            part="panel"
            role="dialog"
            aria-labelledby="tandem-title"
            data-testid="panel"
            on:keydown=on_keydown
        >
            <header class="header" part="header">
                <h2 id="tandem-title" class="title" part="title" data-testid="merchant-name">
                    {move || {
                        let name = config().display_name;
                        if name.is_empty() { i18n.t("panel.fallback-name").to_owned() } else { name }
                    }}
                </h2>
                {move || match handoff.phase.get() {
                    Phase::Connected { agent } => view! {
                        <p class="human-status" part="human-status" data-testid="human-status">
                            <span class="initials" part="agent-initials" aria-hidden="true" data-testid="agent-initials">
                                {states::initials(&agent)}
                            </span>
                            {move || i18n.f("human.talking-to", &[("agent", &agent)])}
                        </p>
                    }
                    .into_any(),
                    Phase::Starting | Phase::Waiting(_) | Phase::Details { .. } => view! {
                        <p class="human-status" part="human-status" data-testid="human-status">
                            {i18n.tr("human.on-the-way")}
                        </p>
                    }
                    .into_any(),
                    Phase::Idle
                    | Phase::Ended
                    | Phase::Failed(_)
                    | Phase::Offline { .. }
                    | Phase::MessageLeft { .. } => view! {
                        <button
                            node_ref=human_button
                            class="human-button"
                            part="human-button"
                            data-testid="human-button"
                            on:click=ask_for_person
                        >
                            {i18n.tr("human.button")}
                        </button>
                    }
                    .into_any(),
                }}
                {on_close.map(|close| view! {
                    <button
                        class="close"
                        data-testid="close"
                        aria-label=i18n.tr("panel.close")
                        on:click=move |_| close.run(())
                    >
                        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                            <path stroke="currentColor" stroke-width="2" d="M6 6l12 12M18 6L6 18"/>
                        </svg>
                    </button>
                })}
            </header>
            <Show when=move || handoff.phase.get().is_live() && handoff.connection.get() == Connection::Reconnecting>
                <p class="banner" role="status" data-testid="reconnecting">
                    {i18n.tr("reconnecting")}
                </p>
            </Show>
            <div class="messages" part="messages" role="log" aria-live="polite" data-testid="messages">
                <p class="message from-bot">{i18n.tr("bot.greeting")}</p>
                <For each=move || bot.lines.get() key=|line| line.id let:line>
                    <BotLineView line bot handoff/>
                </For>
                <Show when=move || bot.offer.get().is_some() && !handoff.phase.get().is_live()>
                    <p class="message from-bot" data-testid="bot-offer">
                        <button class="quick-reply" on:click=move |_| bot.accept_offer(handoff)>
                            {i18n.tr("bot.offer")}
                        </button>
                    </p>
                </Show>
                <For each=move || handoff.messages.get() key=|message| message.seq let:message>
                    <MessageBubble message/>
                </For>
                <For each=move || handoff.outbox.get() key=|pending| pending.client_id.0.clone() let:pending>
                    <div class="message from-customer pending" data-testid="pending-message">
                        <span class="author">{i18n.tr("you.sending")}</span>
                        <p class="text">{pending.text}</p>
                    </div>
                </For>
                {move || match handoff.phase.get() {
                    Phase::Starting => Some(view! {
                        <p class="message from-system" data-testid="queue-status">{i18n.t("queue.finding")}</p>
                    }.into_any()),
                    Phase::Waiting(queue) => Some(view! {
                        <p class="message from-system" data-testid="queue-status">{queue_text(i18n.locale(), queue)}</p>
                        <button type="button" class="quick-reply" data-testid="leave-message-instead" on:click=move |_| handoff.leave_message_instead()>
                            {i18n.t("queue.leave-message")}
                        </button>
                    }.into_any()),
                    Phase::Ended => Some(view! {
                        <p class="message from-system" data-testid="chat-ended">
                            {i18n.t("ended")}
                        </p>
                        <Show when=move || handoff.rateable.with(Option::is_some)>
                            <states::RatingForm handoff/>
                        </Show>
                    }.into_any()),
                    Phase::Details { required } => Some(view! { <states::DetailsForm handoff required/> }.into_any()),
                    Phase::Offline { reply_within_hours, closed } => {
                        Some(view! { <states::LeaveMessageForm handoff reply_within_hours closed/> }.into_any())
                    }
                    Phase::MessageLeft { email, reply_within_hours } => Some(view! {
                        <p class="message from-system" role="status" data-testid="message-left">
                            {i18n.f("offline.sent", &[("email", &email), ("hours", &reply_within_hours.to_string())])}
                        </p>
                    }.into_any()),
                    Phase::Failed(why) => Some(view! {
                        <p class="message from-system" data-testid="human-contact">
                            {i18n.t(why.key())} " "
                            {match config().support_email {
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
                                    <a href=contact_url() target="_blank" rel="noopener noreferrer">
                                        {i18n.t("contact.page")}
                                    </a>
                                }
                                .into_any(),
                            }}
                        </p>
                    }.into_any()),
                    Phase::Idle | Phase::Connected { .. } => None,
                }}
                <Show when=move || handoff.agent_typing.get()>
                    <p class="typing" data-testid="agent-typing">{move || i18n.f("typing", &[("agent", &agent_name())])}</p>
                </Show>
                {move || handoff.notice.get().map(|notice| view! {
                    <p class="message from-system" data-testid="notice">{notice}</p>
                })}
            </div>
            {move || {
                if handoff.phase.get().is_live() {
                    let send = Callback::new(move |text: String| handoff.send(text));
                    let typing = Callback::new(move |typing| handoff.typing(typing));
                    Some(view! { <Composer send typing end=Some(Callback::new(move |()| handoff.end())) autofocus=true/> }.into_any())
                } else if bot.available()
                    && matches!(handoff.phase.get(), Phase::Idle | Phase::Ended | Phase::Failed(_) | Phase::MessageLeft { .. })
                {
                    let send = Callback::new(move |text: String| {
                        tandem_protocol::validate_text(&text).map_err(|_| text_problem(&text))?;
                        bot.say(text, handoff);
                        Ok(())
                    });
                    Some(view! { <Composer send typing=Callback::new(|_| {}) end=None autofocus=false/> }.into_any())
                } else {
                    None
                }
            }}
        </section>
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

/// The catalogue key for why a message was refused (the rule itself is shared with the
/// server in `tandem_protocol::validate_text`).
fn text_problem(text: &str) -> &'static str {
    if text.trim().is_empty() { "composer.empty" } else { "composer.too-long" }
}

#[component]
fn MessageBubble(message: ChatMessage) -> impl IntoView {
    let (class, author) = match &message.author {
        Author::Customer => ("message from-customer", use_i18n().t("you").to_owned()),
        Author::Agent { name } => ("message from-agent", name.clone()),
    };
    view! {
        <div class=class part="message" data-testid="message" data-seq=message.seq.to_string()>
            <span class="author">{author}</span>
            // Text, never markup.
            <p class="text">{message.text}</p>
        </div>
    }
}

#[component]
fn BotLineView(line: BotLine, bot: BotChat, handoff: Handoff) -> impl IntoView {
    let i18n = use_i18n();
    // `data-from` names the speaker for scripts and tests, whatever the language.
    let (class, from, author) = match line.from {
        TranscriptSpeaker::Bot => ("message from-bot", "Bot", "bot.name"),
        TranscriptSpeaker::Customer => ("message from-customer", "You", "you"),
    };
    view! {
        <div class=class part="message" data-testid="bot-line" data-from=from>
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
                <div class="quick-replies" role="group" aria-label=i18n.tr("bot.suggestions")>
                    {line.quick_replies.into_iter().map(|(label, intent)| {
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
            })}
        </div>
    }
}

/// Where the customer types: to the bot, or to the person once one is asked for.
#[component]
fn Composer(
    /// Takes the text; an error is the catalogue key of why it was refused.
    send: Callback<String, Result<(), &'static str>>,
    /// The customer started (`true`) or stopped typing.
    typing: Callback<bool>,
    /// Ends the conversation with the person, where there is one.
    end: Option<Callback<()>>,
    /// Take keyboard focus on appearing (when a person was just asked for; with the bot, focus
    /// stays on the human button).
    autofocus: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let draft = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let input = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get()
            && autofocus
        {
            let _ = input.focus();
        }
    });
    let submit = move || match send.run(draft.get_untracked()) {
        Ok(()) => {
            draft.set(String::new());
            problem.set(None);
        }
        Err(why) => problem.set(Some(why)),
    };
    let on_input = move |event: web_sys::Event| {
        let was_empty = draft.with_untracked(String::is_empty);
        let value = event_target_value(&event);
        let is_empty = value.is_empty();
        draft.set(value);
        if was_empty != is_empty {
            typing.run(!is_empty);
        }
    };
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() {
            event.prevent_default();
            submit();
        }
    };
    view! {
        <form
            class="composer"
            part="composer"
            on:submit=move |event: web_sys::SubmitEvent| {
                event.prevent_default();
                submit();
            }
        >
            <textarea
                node_ref=input
                class="composer-input"
                part="composer-input"
                data-testid="composer-input"
                aria-label=i18n.tr("composer.label")
                rows="2"
                maxlength=tandem_protocol::MAX_MESSAGE_CHARS.to_string()
                prop:value=move || draft.get()
                on:input=on_input
                on:keydown=on_keydown
            ></textarea>
            <button type="submit" class="composer-send" part="send-button" data-testid="composer-send">{i18n.tr("composer.send")}</button>
        </form>
        {move || problem.get().map(|why| view! { <p class="composer-problem" role="alert">{i18n.t(why)}</p> })}
        {end.map(|end| view! {
            <button class="end-chat" data-testid="end-chat" on:click=move |_| end.run(())>
                {i18n.tr("end-chat")}
            </button>
        })}
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
