//! The chat panel and its header. The header always carries the merchant's name and the "Talk
//! to a human" button (or, once a person is on the way, where that stands): a customer is never
//! more than one click from a person.

use leptos::html;
use leptos::prelude::*;
use tandem_browser::Connection;
use tandem_protocol::HandoffReason;

use crate::composer::PanelComposer;
use crate::conversation::MessageList;
use crate::live::Drawn;
use crate::{BotChat, ConfigState, Handoff, Phase, states, theme, use_i18n};

/// The chat panel: header, the conversation, and the composer.
#[component]
pub fn Panel(
    merchant_config: ReadSignal<ConfigState>,
    /// Closes the panel; `None` where it cannot be closed (full page).
    on_close: Option<Callback<()>>,
    handoff: Handoff,
    bot: BotChat,
) -> impl IntoView {
    let panel = NodeRef::<html::Section>::new();
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            theme::warn_on_low_contrast(&panel.parent_element().unwrap_or_else(|| panel.clone().into()));
        }
    });
    // What arrives while the panel is open is read (in a visible tab), and the person is told.
    handoff.on_screen(true);
    on_cleanup(move || handoff.on_screen(false));
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape"
            && let Some(close) = on_close
        {
            event.stop_propagation();
            close.run(());
        }
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
            <PanelHeader merchant_config on_close handoff bot/>
            {move || handoff.drawn_live(Drawn::Reconnecting)}
            <MessageList merchant_config handoff bot/>
            <PanelComposer handoff bot/>
        </section>
    }
}

#[component]
fn PanelHeader(
    merchant_config: ReadSignal<ConfigState>,
    on_close: Option<Callback<()>>,
    handoff: Handoff,
    bot: BotChat,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <header class="header" part="header">
            <h2 id="tandem-title" class="title" part="title" data-testid="merchant-name">
                {move || {
                    let name = merchant_config.with(|state| state.or_fallback().display_name);
                    if name.is_empty() { i18n.t("panel.fallback-name").to_owned() } else { name }
                }}
            </h2>
            <HumanStatus handoff bot/>
            {on_close.map(|close| view! {
                <button class="close" data-testid="close" aria-label=i18n.tr("panel.close") on:click=move |_| close.run(())>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path stroke="currentColor" stroke-width="2" d="M6 6l12 12M18 6L6 18"/>
                    </svg>
                </button>
            })}
        </header>
    }
}

/// The "Talk to a human" button, or where the person asked for stands: the header's one
/// question about the handoff's phase.
#[component]
fn HumanStatus(handoff: Handoff, bot: BotChat) -> impl IntoView {
    let i18n = use_i18n();
    let human_button = NodeRef::<html::Button>::new();
    // Keyboard users land on the one control that always matters.
    Effect::new(move |_| {
        if let Some(button) = human_button.get() {
            let _ = button.focus();
        }
    });
    let ask_for_person = move |_| handoff.start(bot.transcript(), HandoffReason::Button, None);
    let on_the_way = move || {
        view! {
            <p class="human-status" part="human-status" data-testid="human-status">
                {i18n.tr("human.on-the-way")}
            </p>
        }
        .into_any()
    };
    move || match handoff.phase.get() {
        // Drawn by the live module, which alone connects a person.
        Phase::Connected { agent } => handoff.drawn_live(Drawn::Talking(agent)).unwrap_or_else(on_the_way),
        Phase::Starting | Phase::Waiting(_) | Phase::Details { .. } => on_the_way(),
        Phase::Idle | Phase::Ended | Phase::Failed(_) | Phase::Offline { .. } | Phase::MessageLeft { .. } => {
            view! {
                <button
                    node_ref=human_button
                    class="human-button"
                    part="human-button"
                    data-testid="human-button"
                    on:pointerenter=|_| crate::live::preload()
                    on:click=ask_for_person
                >
                    {i18n.tr("human.button")}
                </button>
            }
            .into_any()
        }
    }
}

/// The header's word on the person who answers: their initials and name (the live module's).
pub(crate) fn talking(agent: String) -> AnyView {
    let i18n = use_i18n();
    view! {
        <p class="human-status" part="human-status" data-testid="human-status">
            <span class="initials" part="agent-initials" aria-hidden="true" data-testid="agent-initials">
                {states::initials(&agent)}
            </span>
            {move || i18n.f("human.talking-to", &[("agent", &agent)])}
        </p>
    }
    .into_any()
}

/// Said only while a person is asked for: the bot needs no connection (the live module's).
pub(crate) fn reconnecting(handoff: Handoff) -> AnyView {
    let i18n = use_i18n();
    view! {
        <Show when=move || handoff.phase.get().is_live() && handoff.connection.get() == Connection::Reconnecting>
            <p class="banner" role="status" data-testid="reconnecting">
                {i18n.tr("reconnecting")}
            </p>
        </Show>
    }
    .into_any()
}
