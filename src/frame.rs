//! Frame mode: the app in an iframe on Tandem's origin (`/widget/frame.html`), opened by the
//! loader on pages whose Content-Security-Policy refuses WebAssembly, and talking to it by
//! `postMessage`.
//!
//! Both directions use an exact target origin, never `*`, and check every message received:
//! here, it must come from `window.parent` and from the origin the loader named (which the
//! server only serves the frame for when it is one of the merchant's, and which
//! `frame-ancestors` enforces). The schema is small and versioned (`tandem: 1`); see
//! docs/embedding.md. Anything else is ignored.

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Window};

use crate::page_api::{self, Controls};

/// The message schema's version.
const VERSION: u32 = 1;
/// The custom properties the page may set (docs/theming.md), and how long a value may be.
const THEMED: [&str; 15] = [
    "accent",
    "on-accent",
    "surface",
    "text",
    "muted",
    "bubble",
    "border",
    "link",
    "focus",
    "focus-inner",
    "warning-surface",
    "warning-text",
    "danger",
    "radius",
    "font",
];
const MAX_VALUE: usize = 200;

/// The page that frames us, once [`connect`] has checked it.
struct Parent {
    window: Window,
    origin: String,
    /// The page's own URL, as the loader reported it (shown to the agent).
    page_url: Option<String>,
}

thread_local! {
    static PARENT: RefCell<Option<Parent>> = const { RefCell::new(None) };
}

/// Checks that this document really is framed by `claimed` (an origin, as the loader saw
/// `location.origin`) and remembers it. `Err` when it is not: the caller shows no app.
pub fn connect(window: &Window, claimed: &str) -> Result<(), &'static str> {
    let parent = window.parent().ok().flatten().ok_or("no parent window")?;
    if Object::is(&parent, window) {
        return Err("not in a frame");
    }
    let parsed = web_sys::Url::new(claimed).map_err(|_| "the parent is not an origin")?;
    if parsed.origin() != claimed || !claimed.starts_with("http") {
        return Err("the parent is not an origin");
    }
    // Where the browser tells (Chromium, Safari), the real parent must be the one claimed.
    let ancestors = Reflect::get(&window.location(), &JsValue::from_str("ancestorOrigins")).ok();
    if let Some(actual) = ancestors.and_then(|list| Reflect::get(&list, &JsValue::from(0)).ok()?.as_string())
        && actual != claimed
    {
        return Err("the parent is not the page the loader named");
    }
    PARENT.with_borrow_mut(|slot| {
        *slot = Some(Parent { window: parent, origin: claimed.to_owned(), page_url: None })
    });
    Ok(())
}

/// Whether the app runs in frame mode.
pub fn is_framed() -> bool {
    PARENT.with_borrow(Option::is_some)
}

/// The URL of the page the customer is on: the framing page's in frame mode.
pub fn page_url() -> String {
    PARENT
        .with_borrow(|parent| parent.as_ref().and_then(|p| p.page_url.clone()))
        .or_else(|| web_sys::window().and_then(|w| w.location().href().ok()))
        .unwrap_or_default()
}

/// Posts `{ tandem: 1, type, ...fields }` to the framing page, at its exact origin.
pub fn post(kind: &str, fields: &[(&str, JsValue)]) {
    PARENT.with_borrow(|parent| {
        let Some(parent) = parent else { return };
        let message = Object::new();
        let set = |name: &str, value: &JsValue| {
            let _ = Reflect::set(&message, &JsValue::from_str(name), value);
        };
        set("tandem", &JsValue::from(VERSION));
        set("type", &JsValue::from_str(kind));
        for (name, value) in fields {
            set(name, value);
        }
        let _ = parent.window.post_message(&message, &parent.origin);
    });
}

/// Listens to the framing page, then tells it the app is ready (and whether a conversation is
/// under way, so that a reload reopens it at once).
// Kept out of the widget's start, which inlines it otherwise: smaller as served (measured).
#[inline(never)]
pub fn attach(controls: Controls, ongoing: bool) {
    let Some(window) = web_sys::window() else { return };
    let listener = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(data) = accepted(&event) {
            apply(controls, &data);
        }
    });
    let _ = window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    // Listens as long as the page lives.
    listener.forget();
    post("ready", &[("ongoing", JsValue::from_bool(ongoing))]);
}

/// The message's data, when it is from the framing page and of our schema.
fn accepted(event: &MessageEvent) -> Option<JsValue> {
    let from_parent = PARENT.with_borrow(|parent| {
        parent.as_ref().is_some_and(|parent| {
            event.origin() == parent.origin
                && event.source().is_some_and(|source| Object::is(&source, &parent.window))
        })
    });
    let data = event.data();
    let version = Reflect::get(&data, &JsValue::from_str("tandem")).ok()?.as_f64();
    (from_parent && version == Some(f64::from(VERSION))).then_some(data)
}

fn field(data: &JsValue, name: &str) -> JsValue {
    Reflect::get(data, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Carries out one message from the framing page; unknown or malformed ones do nothing.
fn apply(controls: Controls, data: &JsValue) {
    match field(data, "type").as_string().as_deref() {
        Some("open") => {
            if let Some(open) = field(data, "open").as_bool() {
                controls.open.set(open);
            }
        }
        Some("call") => {
            if let Some(method) = field(data, "method").as_string() {
                page_api::call(controls, &method, field(data, "arg"));
            }
        }
        Some("init") => init(data),
        _ => {}
    }
}

/// The page's theme (its values of the documented custom properties, and a forced palette)
/// and its URL.
fn init(data: &JsValue) {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else {
        return;
    };
    if let Some(theme) = field(data, "theme").as_string().filter(|t| t == "light" || t == "dark") {
        let _ = root.set_attribute("data-theme", &theme);
    }
    let vars = field(data, "vars");
    if let Some(style) = root.dyn_ref::<web_sys::HtmlElement>().map(web_sys::HtmlElement::style) {
        for name in THEMED {
            let property = format!("--tandem-{name}");
            let value = field(&vars, &property).as_string().filter(|v| v.len() <= MAX_VALUE);
            if let Some(value) = value {
                // The CSSOM, which a policy does not restrict, and one property at a time.
                let _ = style.set_property(&property, &value);
            }
        }
    }
    let page = field(data, "page").as_string().filter(|url| tandem_protocol::validate_page_url(url).is_ok());
    PARENT.with_borrow_mut(|parent| {
        if let Some(parent) = parent {
            parent.page_url = page;
        }
    });
}

#[cfg(test)]
mod tests {
    /// The page's side (loader/frame.js) passes the same custom properties this side accepts.
    #[test]
    fn both_sides_of_the_frame_name_the_same_custom_properties() {
        let script = include_str!("../loader/frame.js");
        let list = script
            .split("var THEMED = '")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("frame.js has THEMED");
        assert_eq!(list.split(' ').collect::<Vec<_>>(), super::THEMED);
    }
}
