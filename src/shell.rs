//! The loader's panel shell (`drawShell` in loader/tandem.js): drawn the moment the launcher is
//! pressed, before the app has arrived, so that the human button is on screen at once even on a
//! slow phone. The app's own panel takes it over in the same frame: what the customer typed
//! moves into the app's composer, and a press of the human button is carried out.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlTextAreaElement};

/// The shell the loader drew, with the loader's hand-over it reports into.
#[derive(Debug, Clone)]
pub struct Shell {
    handover: JsValue,
    element: Element,
}

/// What the customer typed into the shell, for the app's composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub text: String,
    /// The text box had the keyboard focus: the app's composer takes it.
    pub focused: bool,
    /// Enter was pressed: the text is sent once the composer can send.
    pub send: bool,
}

thread_local! {
    /// The draft the shell left, until the first composer takes it: one hand-over, once, like
    /// the loader's own (`window.__tandem_boot`).
    static CARRIED: std::cell::RefCell<Option<Carried>> = const { std::cell::RefCell::new(None) };
}

/// What was typed into the shell, for the composer that appears first (once).
pub fn take_carried() -> Option<Carried> {
    CARRIED.with(|carried| carried.borrow_mut().take())
}

fn get(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

impl Shell {
    pub fn from_handover(handover: &JsValue) -> Option<Self> {
        let element = get(handover, "shell").dyn_into::<Element>().ok()?;
        Some(Self { handover: handover.clone(), element })
    }

    /// Removes the shell, leaves what was typed into it for [`take_carried`], and says whether
    /// its human button was pressed. Called once the app's panel is in the page, before the
    /// browser paints again.
    pub fn take_over(self) -> bool {
        let human = get(&self.handover, "human").as_bool().unwrap_or(false);
        let carried =
            get(&self.element, "box").dyn_into::<HtmlTextAreaElement>().ok().map(|text_box| Carried {
                text: text_box.value(),
                focused: text_box.matches(":focus").unwrap_or(false),
                send: get(&self.element, "send").as_bool().unwrap_or(false),
            });
        self.element.remove();
        CARRIED.with(|slot| {
            *slot.borrow_mut() = carried.filter(|carried| carried.focused || !carried.text.is_empty())
        });
        human
    }
}
