//! Tandem's customer widget.
//!
//! [`mount`] is the entry: it renders the widget into a given root with a given [`MountConfig`].
//! On a merchant's page the loader (`loader/tandem.js`) has already drawn a placeholder launcher
//! in a shadow root and hands that root over through [`boot`]; served on its own (full page, as
//! in an isolated frame) the widget fills the document body instead.

mod boot;
mod merchant_config;

use leptos::html;
use leptos::prelude::*;
use tandem_protocol::MerchantId;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

pub use boot::boot;
pub use merchant_config::{ConfigState, fallback_config};

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
    /// The panel fills its root and cannot be closed (hosted page or isolated frame).
    FullPage,
}

/// Everything the widget needs to start.
#[derive(Debug, Clone)]
pub struct MountConfig {
    pub merchant: MerchantId,
    /// Origin of the Tandem server, e.g. `https://chat.example.com`.
    pub api_origin: String,
    pub layout: Layout,
}

/// Renders the widget into `root` for as long as the page lives.
pub fn mount(root: &HtmlElement, config: MountConfig) {
    let take_focus = matches!(config.layout, Layout::Launcher { focus_launcher: true, .. });
    let handle = leptos::mount::mount_to(root.clone(), move || view! { <Widget config/> });
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
pub fn Widget(config: MountConfig) -> impl IntoView {
    let merchant_config = merchant_config::load(config.api_origin.clone(), config.merchant.clone());
    match config.layout {
        Layout::FullPage => view! {
            <div class="tandem tandem-full-page">
                <Panel merchant_config=merchant_config api_origin=config.api_origin on_close=None/>
            </div>
        }
        .into_any(),
        Layout::Launcher { open_at_start, .. } => view! {
            <LauncherAndPanel
                merchant_config=merchant_config
                api_origin=config.api_origin
                open_at_start=open_at_start
            />
        }
        .into_any(),
    }
}

#[component]
fn LauncherAndPanel(
    merchant_config: ReadSignal<ConfigState>,
    api_origin: String,
    open_at_start: bool,
) -> impl IntoView {
    let (open, set_open) = signal(open_at_start);
    let launcher = NodeRef::<html::Button>::new();
    // The panel shows once the merchant's name is known (or known to be unavailable), so that
    // its first frame already has the header; until then the launcher reports that it is busy.
    let panel_shown = move || open.get() && merchant_config.with(|state| !state.is_loading());
    let close = Callback::new(move |()| {
        set_open.set(false);
        if let Some(button) = launcher.get_untracked() {
            let _ = button.focus();
        }
    });

    view! {
        <div class="tandem">
            <Show when=panel_shown>
                <Panel merchant_config=merchant_config api_origin=api_origin.clone() on_close=Some(close)/>
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
                on:click=move |_| set_open.update(|open| *open = !*open)
            >
                <LauncherIcon/>
                <span>{move || if open.get() { "Close chat" } else { "Chat with us" }}</span>
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
/// button: a customer is never more than one click from a person.
#[component]
pub fn Panel(
    merchant_config: ReadSignal<ConfigState>,
    api_origin: String,
    /// Closes the panel; `None` where it cannot be closed (full page).
    on_close: Option<Callback<()>>,
) -> impl IntoView {
    let (human_requested, set_human_requested) = signal(false);
    let human_button = NodeRef::<html::Button>::new();
    let config = move || merchant_config.with(ConfigState::or_fallback);
    // A stored value is `Copy`, so the closures below can share it.
    let api_origin = StoredValue::new(api_origin);
    let contact_url = move || format!("{}/contact/{}", api_origin.read_value(), config().merchant_id);
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

    view! {
        <section
            id="tandem-panel"
            class="panel"
            part="panel"
            role="dialog"
            aria-labelledby="tandem-title"
            data-testid="panel"
            on:keydown=on_keydown
        >
            <header class="header" part="header">
                <h2 id="tandem-title" class="title" data-testid="merchant-name">
                    {move || config().display_name}
                </h2>
                <button
                    node_ref=human_button
                    class="human-button"
                    part="human-button"
                    data-testid="human-button"
                    on:click=move |_| set_human_requested.set(true)
                >
                    "Talk to a human"
                </button>
                {on_close.map(|close| view! {
                    <button
                        class="close"
                        data-testid="close"
                        aria-label="Close chat"
                        on:click=move |_| close.run(())
                    >
                        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                            <path stroke="currentColor" stroke-width="2" d="M6 6l12 12M18 6L6 18"/>
                        </svg>
                    </button>
                })}
            </header>
            <div class="messages" part="messages" role="log" aria-live="polite" data-testid="messages">
                <p class="message from-bot">
                    "Hi! Ask us anything here. You can talk to a person at any time."
                </p>
                <Show when=move || human_requested.get()>
                    <p class="message from-system" data-testid="human-contact">
                        {move || match config().support_email {
                            Some(email) => view! {
                                "A person will help you. Email "
                                <a href=format!("mailto:{email}")>{email.clone()}</a>
                                " and you will get an answer."
                            }
                            .into_any(),
                            None => view! {
                                <a href=contact_url() target="_blank" rel="noopener noreferrer">
                                    "Contact a person"
                                </a>
                            }
                            .into_any(),
                        }}
                    </p>
                </Show>
            </div>
        </section>
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
