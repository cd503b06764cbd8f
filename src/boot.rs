//! Finding where to mount: the loader's hand-over, an isolated frame, or the whole page.
//!
//! The loader (`loader/tandem.js`) cannot call into the app before the wasm module is
//! instantiated, and instantiating runs `main`; so it leaves its hand-over on `window`
//! before importing the app, and `main` picks it up here, exactly once.

use js_sys::Reflect;
use tandem_protocol::MerchantId;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement};

use crate::{Layout, MountConfig, mount};

const HANDOVER: &str = "__tandem_boot";

/// Mounts the widget: into the loader's shadow root when the loader asked for it, otherwise
/// into `<body>` for the merchant named by `?merchant=` in the page URL: full page, or as the
/// frame of frame mode when the URL names the framing page (`?parent=`).
pub fn boot() {
    let Some(window) = web_sys::window() else { return };
    let key = JsValue::from_str(HANDOVER);
    let handover = Reflect::get(&window, &key).unwrap_or(JsValue::UNDEFINED);
    if handover.is_object() {
        let _ = Reflect::delete_property(&window, &key);
        match from_handover(&handover) {
            Ok((root, config)) => mount(&root, config),
            Err(problem) => warn(&problem),
        }
        return;
    }
    match full_page(&window) {
        Ok((root, config)) => mount(&root, config),
        Err(problem) => warn(&problem),
    }
}

fn from_handover(handover: &JsValue) -> Result<(HtmlElement, MountConfig), String> {
    let get = |name: &str| Reflect::get(handover, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    let root: HtmlElement = get("root").dyn_into().map_err(|_| "the loader gave no root element")?;
    let merchant = parse_merchant(&get("merchant").as_string().unwrap_or_default())?;
    let api_origin = get("api").as_string().ok_or("the loader gave no server origin")?;
    // The placeholder launcher is replaced by the app's own; keep its state.
    let mut focus_launcher = false;
    if let Ok(placeholder) = get("placeholder").dyn_into::<Element>() {
        focus_launcher = placeholder.matches(":focus").unwrap_or(false);
        placeholder.remove();
    }
    let open_at_start = get("open").as_bool().unwrap_or(false);
    let layout = Layout::Launcher { open_at_start, focus_launcher };
    let attach_api = get("attach").dyn_into::<js_sys::Function>().ok();
    if let Ok(style) = get("style").dyn_into::<js_sys::Function>() {
        crate::stylesheet::through_loader(&style);
    }
    let host_option = |name: &str| {
        root.get_root_node()
            .dyn_into::<web_sys::ShadowRoot>()
            .ok()
            .and_then(|shadow| shadow.host().get_attribute(name))
            .filter(|value| !value.trim().is_empty())
    };
    let launcher_label = host_option("label");
    let shell = crate::shell::Shell::from_handover(handover);
    let config = tandem_browser::from_value(get("config")).ok();
    let flow = tandem_browser::from_value(get("flow")).ok();
    let skill = host_option("skill").filter(|skill| match tandem_protocol::validate_tag(skill) {
        Ok(()) => true,
        Err(problem) => {
            web_sys::console::warn_1(&format!("Tandem: ignoring skill \"{skill}\": {problem}").into());
            false
        }
    });
    Ok((
        root,
        MountConfig { merchant, api_origin, layout, attach_api, launcher_label, skill, shell, config, flow },
    ))
}

fn full_page(window: &web_sys::Window) -> Result<(HtmlElement, MountConfig), String> {
    let location = window.location();
    let search = location.search().unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).map_err(|_| "unreadable page URL")?;
    let merchant = parse_merchant(&params.get("merchant").unwrap_or_default())?;
    let api_origin = location.origin().map_err(|_| "unreadable page origin")?;
    let document = window.document().ok_or("the page has no document")?;
    let layout = match params.get("parent") {
        Some(parent) => {
            if let Err(problem) = crate::frame::connect(window, &parent) {
                // Not framed by the merchant's page: no chat here, only the way to a person.
                let _ = location.replace(&format!("{api_origin}/contact/{merchant}"));
                return Err(format!("frame mode refused: {problem}"));
            }
            // The framing page's language, as the loader read it.
            if let (Some(lang), Some(html)) = (params.get("lang"), document.document_element()) {
                let _ = html.set_attribute("lang", &lang.chars().take(35).collect::<String>());
            }
            Layout::Frame
        }
        None => Layout::FullPage,
    };
    let body = document.body().ok_or("the page has no body")?;
    crate::stylesheet::into_document(&document);
    Ok((
        body,
        MountConfig {
            merchant,
            api_origin,
            layout,
            attach_api: None,
            launcher_label: None,
            skill: params.get("skill").filter(|skill| tandem_protocol::validate_tag(skill).is_ok()),
            shell: None,
            config: None,
            flow: None,
        },
    ))
}

fn parse_merchant(raw: &str) -> Result<MerchantId, String> {
    MerchantId::parse(raw).map_err(|error| format!("no valid merchant id ({error})"))
}

fn warn(problem: &str) {
    web_sys::console::warn_1(&format!("Tandem: the chat is not shown: {problem}").into());
}
