//! Tandem's customer widget.
//!
//! [`mount`] is the entry: it renders the widget into a given root with a given [`MountConfig`].
//! On a merchant's page the loader (`loader/tandem.js`) has already drawn a placeholder launcher
//! in a shadow root and hands that root over through [`boot`]; served on its own (full page, as
//! in an isolated frame) the widget fills the document body instead.

mod boot;
mod bot_chat;
mod composer;
mod conversation;
pub mod frame;
mod handoff;
mod i18n;
mod live;
mod merchant_config;
mod page_api;
mod panel;
mod shell;
mod states;
mod stylesheet;
mod theme;

use leptos::html;
use leptos::prelude::*;
use tandem_protocol::MerchantId;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

pub use boot::boot;
pub use bot_chat::{BotChat, BotLine};
pub use handoff::{Failure, Handoff, Phase};
pub use i18n::{I18n, Locale, use_i18n};
pub use merchant_config::{ConfigState, fallback_config};
pub use page_api::{Controls, PageEvent, PageEvents};
pub use panel::Panel;

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
    /// The panel the loader drew before the app arrived, which the app's panel takes over.
    pub shell: Option<shell::Shell>,
    /// The merchant's widget configuration and bot flow, when the loader has fetched them.
    pub config: Option<tandem_protocol::WidgetConfig>,
    pub flow: Option<tandem_bot::Flow>,
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
    let controls = Controls {
        open: RwSignal::new(open_at_start),
        i18n,
        identity: RwSignal::new(None),
        context: RwSignal::new(None),
    };
    let merchant_config =
        merchant_config::load(config.api_origin.clone(), config.merchant.clone(), config.config);
    // Lives as long as the widget, so closing the panel does not end a conversation.
    let handoff = Handoff::new(
        config.api_origin.clone(),
        config.merchant.clone(),
        i18n,
        events,
        controls.identity,
        controls.context,
    );
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
    let bot = BotChat::load(&config.api_origin, &config.merchant, i18n, config.flow);
    match config.layout {
        Layout::FullPage => view! {
            {widget_root("tandem tandem-full-page", view! {
                <Panel merchant_config on_close=None handoff bot/>
            })}
        }
        .into_any(),
        Layout::Frame => view! { <FramePanel merchant_config open=controls.open handoff bot/> }.into_any(),
        Layout::Launcher { .. } => view! {
            <LauncherAndPanel merchant_config label=config.launcher_label shell=config.shell open=controls.open handoff bot/>
        }
        .into_any(),
    }
}

/// The widget's root element, in the customer's language and its writing direction. A
/// function rather than a component: boxed children would cost the download for nothing.
fn widget_root(class: &'static str, content: impl IntoView + 'static) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class=class lang=move || i18n.locale().tag() dir=move || i18n.locale().dir()>
            {content}
        </div>
    }
}

/// Frame mode: the loader shows and hides the frame around the panel.
#[component]
fn FramePanel(
    merchant_config: ReadSignal<ConfigState>,
    open: RwSignal<bool>,
    handoff: Handoff,
    bot: BotChat,
) -> impl IntoView {
    // The loader hides the frame and returns focus to its launcher.
    let close = Callback::new(move |()| {
        open.set(false);
        frame::post("close", &[]);
    });
    // Drawn again only when it opens or closes (a memo, as `Show` would: `Tandem.open()` on an
    // open panel keeps it as it is).
    let shown = Memo::new(move |_| open.get());
    view! {
        {widget_root("tandem tandem-full-page", view! {
            {move || shown.get().then(|| view! { <Panel merchant_config on_close=Some(close) handoff bot/> })}
        })}
    }
}

#[component]
fn LauncherAndPanel(
    merchant_config: ReadSignal<ConfigState>,
    /// Also opened and closed by the page's `Tandem.open()` / `close()` / `toggle()`.
    open: RwSignal<bool>,
    label: Option<String>,
    /// The loader's shell, taken over by the panel when it first shows.
    shell: Option<shell::Shell>,
    handoff: Handoff,
    bot: BotChat,
) -> impl IntoView {
    let i18n = use_i18n();
    let launcher = NodeRef::<html::Button>::new();
    // The panel shows once the merchant's name is known (or known to be unavailable), so that
    // its first frame already has the header; until then the launcher reports that it is busy.
    let panel_shown = move || open.get() && merchant_config.with(|state| !state.is_loading());
    // The panel is drawn again only when it shows or hides (a memo, as `Show` would).
    let shown = Memo::new(move |_| panel_shown());
    // Taken over as the panel is first built (before its composer, which takes what was typed),
    // or dropped if the panel is closed before it could show.
    let shell = StoredValue::new_local(shell);
    let take_over_shell = move |carry_out_press: bool| {
        if let Some(shell) = shell.try_update_value(Option::take).flatten()
            && shell.take_over()
            && carry_out_press
        {
            // The press, carried out once the panel is drawn.
            leptos::task::spawn_local(async move {
                handoff.start(bot.transcript(), tandem_protocol::HandoffReason::Button, None);
            });
        }
    };
    Effect::new(move |_| {
        if !open.get() {
            take_over_shell(false);
        }
    });
    let close = Callback::new(move |()| {
        open.set(false);
        if let Some(button) = launcher.get_untracked() {
            let _ = button.focus();
        }
    });

    view! {
        {widget_root("tandem", view! {
            {move || shown.get().then(|| view! {
                {take_over_shell(true)}
                <Panel merchant_config=merchant_config on_close=Some(close) handoff bot/>
            })}
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
        })}
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

/// The catalogue key for why a message was refused (the rule itself is shared with the
/// server in `tandem_protocol::validate_text`).
fn text_problem(text: &str) -> &'static str {
    if text.trim().is_empty() { "composer.empty" } else { "composer.too-long" }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
