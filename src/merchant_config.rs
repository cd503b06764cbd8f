//! Fetching the merchant's widget configuration from the Tandem server.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::fetch_json;
use tandem_protocol::{MerchantId, WidgetConfig, widget_config_path};

#[derive(Debug, Clone, PartialEq)]
pub enum ConfigState {
    Loading(MerchantId),
    Loaded(WidgetConfig),
    /// The server could not be asked or refused; the widget still works with a generic header.
    Unavailable(MerchantId),
}

impl ConfigState {
    pub fn is_loading(&self) -> bool {
        matches!(self, Self::Loading(_))
    }

    /// The configuration to show: the merchant's own, or a generic one while it is missing.
    pub fn or_fallback(&self) -> WidgetConfig {
        match self {
            Self::Loaded(config) => config.clone(),
            Self::Loading(merchant) | Self::Unavailable(merchant) => fallback_config(merchant.clone()),
        }
    }
}

/// The configuration used when the merchant's cannot be loaded; its empty name makes the
/// header say "Customer support" in the customer's language.
pub fn fallback_config(merchant_id: MerchantId) -> WidgetConfig {
    WidgetConfig {
        merchant_id,
        display_name: String::new(),
        support_email: None,
        locale: None,
        ask_email: tandem_protocol::AskEmail::Off,
        transcripts: false,
    }
}

/// Starts loading the configuration and returns its state, which settles once; at once when
/// the loader fetched it already (`fetched`).
pub fn load(
    api_origin: String,
    merchant: MerchantId,
    fetched: Option<WidgetConfig>,
) -> ReadSignal<ConfigState> {
    if let Some(config) = fetched.filter(|config| config.merchant_id == merchant) {
        return signal(ConfigState::Loaded(config)).0;
    }
    let (state, set_state) = signal(ConfigState::Loading(merchant.clone()));
    spawn_local(async move {
        let url = format!("{api_origin}{}", widget_config_path(&merchant));
        let loaded = match fetch_json::<(), WidgetConfig>("GET", &url, None).await {
            Ok(config) => ConfigState::Loaded(config),
            Err(error) => {
                web_sys::console::warn_1(
                    &format!("Tandem: could not load the chat settings: {}", error.reason()).into(),
                );
                ConfigState::Unavailable(merchant)
            }
        };
        set_state.set(loaded);
    });
    state
}
