//! Fetching the merchant's widget configuration from the Tandem server.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::{MerchantId, WidgetConfig, widget_config_path};
use wasm_bindgen::JsValue;

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

/// The header shown when the merchant's configuration cannot be loaded.
pub fn fallback_config(merchant_id: MerchantId) -> WidgetConfig {
    WidgetConfig { merchant_id, display_name: "Customer support".to_owned(), support_email: None }
}

/// Starts loading the configuration and returns its state, which settles once.
pub fn load(api_origin: String, merchant: MerchantId) -> ReadSignal<ConfigState> {
    let (state, set_state) = signal(ConfigState::Loading(merchant.clone()));
    spawn_local(async move {
        let url = format!("{api_origin}{}", widget_config_path(&merchant));
        let loaded = match fetch(&url).await {
            Ok(config) => ConfigState::Loaded(config),
            Err(error) => {
                web_sys::console::warn_2(&"Tandem: could not load the chat settings:".into(), &error);
                ConfigState::Unavailable(merchant)
            }
        };
        set_state.set(loaded);
    });
    state
}

/// Fetches and decodes JSON with the browser's own parser (smaller than serde_json in wasm).
async fn fetch(url: &str) -> Result<WidgetConfig, JsValue> {
    let response = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|error| JsValue::from_str(&error.to_string()))?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!("HTTP {}", response.status())));
    }
    let text = response.text().await.map_err(|error| JsValue::from_str(&error.to_string()))?;
    let value = js_sys::JSON::parse(&text)?;
    serde_wasm_bindgen::from_value(value).map_err(Into::into)
}
