//! The merchant page's side of the widget: the `window.Tandem` calls it makes and the DOM
//! events it listens to (see docs/embedding.md).
//!
//! The loader owns `window.Tandem` and queues calls made before the app loaded; here the app
//! hands the loader its implementation, which replays the queue. Events go out as
//! `CustomEvent`s named `tandem:<event>` on the host element, bubbling and composed, and the
//! loader's `Tandem.on` forwards them.

use leptos::prelude::*;
use serde::Serialize;
use tandem_protocol::Identity;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CustomEvent, CustomEventInit, Element};

use crate::i18n::I18n;

/// What the page's calls act on.
#[derive(Clone, Copy)]
pub struct Controls {
    /// The panel is open (launcher layout only).
    pub open: RwSignal<bool>,
    pub i18n: I18n,
    /// Who `Tandem.identify` says the customer is; sent with the next handoff.
    pub identity: RwSignal<Option<Identity>>,
    /// What `Tandem.setContext` says of the page (JSON text), for the agent.
    pub context: RwSignal<Option<String>>,
}

/// The page's `window.Tandem` calls, by name: made in this document (the loader's queue,
/// then direct calls) or passed on by the loader in frame mode (see [`crate::frame`]).
const METHODS: [&str; 6] = ["open", "close", "toggle", "setLocale", "identify", "setContext"];

/// Gives the loader the implementation of `window.Tandem`; it replays queued calls at once.
// Kept out of the widget's start, which inlines it otherwise: smaller as served (measured).
#[inline(never)]
pub fn attach(attach: &js_sys::Function, controls: Controls) {
    let api = js_sys::Object::new();
    for method in METHODS {
        // Each closure lives as long as the page, like the widget: `into_js_value` hands it to JS.
        let function = Closure::<dyn Fn(JsValue)>::new(move |arg: JsValue| call(controls, method, arg));
        let _ = js_sys::Reflect::set(&api, &JsValue::from_str(method), &function.into_js_value());
    }
    let _ = attach.call1(&JsValue::NULL, &api);
}

/// Carries out one `Tandem.<method>(arg)` call; a bad argument gets a console warning.
pub fn call(controls: Controls, method: &str, arg: JsValue) {
    match method {
        "open" => controls.open.set(true),
        "close" => controls.open.set(false),
        "toggle" => controls.open.update(|open| *open = !*open),
        "setLocale" => match arg.as_string() {
            Some(tag) if crate::Locale::from_tag(&tag).is_some() => controls.i18n.requested.set(Some(tag)),
            _ => warn("Tandem.setLocale: unsupported locale; the widget speaks en, sv and de"),
        },
        "identify" => match tandem_browser::from_value::<Identity>(arg) {
            Ok(identity) => match identity.validate() {
                Ok(()) => controls.identity.set(Some(identity)),
                Err(problem) => warn(&format!("Tandem.identify: {problem}")),
            },
            Err(_) => warn(
                "Tandem.identify: pass {id, email, name, issued_at, hash} (id, issued_at and hash required)",
            ),
        },
        "setContext" => match context_json(&arg) {
            Some(json) => controls.context.set(Some(json)),
            None => warn(
                "Tandem.setContext: pass an object of at most 8 KB as JSON, such as { cart: [...], order_id: '1042' }; this one was not kept",
            ),
        },
        _ => {}
    }
}

/// The page's context as JSON text: a plain object (not an array) the browser can write as
/// JSON, of at most 8 KB.
fn context_json(arg: &JsValue) -> Option<String> {
    if !arg.is_object() || js_sys::Array::is_array(arg) {
        return None;
    }
    let text = js_sys::JSON::stringify(arg).ok()?.as_string()?;
    (text.len() <= tandem_protocol::MAX_PAGE_CONTEXT_BYTES).then_some(text)
}

fn warn(problem: &str) {
    web_sys::console::warn_1(&problem.into());
}

/// Where the widget's events go: the `tandem-chat` host element (or the mount root when
/// there is none, full page).
#[derive(Clone)]
pub struct PageEvents {
    target: Option<Element>,
}

/// An event the page can listen to.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum PageEvent {
    /// A person was asked for and the conversation is queued.
    Handoff {
        conversation_id: String,
    },
    AgentJoined {
        name: String,
    },
    /// A stored message, from `customer` or `agent`.
    Message {
        from: &'static str,
        text: String,
        seq: u64,
    },
    Closed,
}

impl PageEvents {
    pub fn for_root(root: &Element) -> Self {
        let host = root.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok().map(|shadow| shadow.host());
        Self { target: host.or_else(|| Some(root.clone())) }
    }

    /// Nowhere (component tests).
    pub fn none() -> Self {
        Self { target: None }
    }

    pub fn emit(&self, event: &PageEvent) {
        let name = match event {
            PageEvent::Handoff { .. } => "handoff",
            PageEvent::AgentJoined { .. } => "agent-joined",
            PageEvent::Message { .. } => "message",
            PageEvent::Closed => "closed",
        };
        let detail = serde_wasm_bindgen::to_value(event).unwrap_or(JsValue::NULL);
        // In frame mode the loader dispatches the event on the page's host element.
        if crate::frame::is_framed() {
            crate::frame::post("event", &[("name", JsValue::from_str(name)), ("detail", detail)]);
            return;
        }
        let Some(target) = &self.target else { return };
        let name = format!("tandem:{name}");
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        init.set_bubbles(true);
        init.set_composed(true);
        if let Ok(custom) = CustomEvent::new_with_event_init_dict(&name, &init) {
            let _ = target.dispatch_event(&custom);
        }
    }
}
