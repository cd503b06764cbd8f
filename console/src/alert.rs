//! Offers that reach the agent when the console is not in front of them: a system
//! notification when the tab is hidden (asked for with a button, never on load), a short tone
//! (the agent's choice, kept in this browser), the countdown in the tab's title, and keyboard
//! shortcuts to answer.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// The browser's notifications and audio, declared here rather than through web-sys features:
/// the workspace builds its crates' web-sys features together, and the widget's download must
/// not grow for the console's sake.
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[derive(Clone)]
        pub type Notification;
        #[wasm_bindgen(constructor, catch)]
        pub fn new(title: &str, options: &JsValue) -> Result<Notification, JsValue>;
        #[wasm_bindgen(static_method_of = Notification, getter, catch)]
        pub fn permission() -> Result<String, JsValue>;
        #[wasm_bindgen(static_method_of = Notification, js_name = requestPermission, catch)]
        pub fn request_permission() -> Result<js_sys::Promise, JsValue>;
        #[wasm_bindgen(method, setter)]
        pub fn set_onclick(this: &Notification, handler: &js_sys::Function);
        #[wasm_bindgen(method)]
        pub fn close(this: &Notification);

        pub type AudioContext;
        #[wasm_bindgen(constructor, catch)]
        pub fn new() -> Result<AudioContext, JsValue>;
        #[wasm_bindgen(method, getter, js_name = currentTime)]
        pub fn current_time(this: &AudioContext) -> f64;
        #[wasm_bindgen(method, getter)]
        pub fn destination(this: &AudioContext) -> AudioNode;
        #[wasm_bindgen(method, js_name = createOscillator)]
        pub fn create_oscillator(this: &AudioContext) -> AudioNode;
        #[wasm_bindgen(method, js_name = createGain)]
        pub fn create_gain(this: &AudioContext) -> AudioNode;

        pub type AudioNode;
        #[wasm_bindgen(method)]
        pub fn connect(this: &AudioNode, to: &AudioNode);
        #[wasm_bindgen(method, getter)]
        pub fn frequency(this: &AudioNode) -> AudioParam;
        #[wasm_bindgen(method, getter)]
        pub fn gain(this: &AudioNode) -> AudioParam;
        #[wasm_bindgen(method)]
        pub fn start(this: &AudioNode);
        #[wasm_bindgen(method)]
        pub fn stop(this: &AudioNode, when: f64);

        pub type AudioParam;
        #[wasm_bindgen(method, setter)]
        pub fn set_value(this: &AudioParam, value: f64);
        #[wasm_bindgen(method, js_name = setValueAtTime)]
        pub fn set_value_at_time(this: &AudioParam, value: f64, at: f64);
    }
}

/// The browser's notification permission: `granted`, `denied`, `default`, or `unsupported`.
fn permission() -> String {
    js::Notification::permission().unwrap_or_else(|_| "unsupported".into())
}

/// Where the agent's choice of a tone with each offer is kept.
const SOUND_KEY: &str = "tandem.console.offer-sound";
/// The console's own title, restored when no offer is open.
pub const TITLE: &str = "Tandem · Agent console";
/// Shortcuts while an offer is open (shown on the offer card, and in docs/operations.md).
pub const ACCEPT_KEY: &str = "A";
pub const DECLINE_KEY: &str = "D";

/// Tells the agent of an offer: a notification when the tab is hidden (clicking it brings the
/// tab and its Accept button to the front), and the tone when they chose it.
pub fn offer_arrived(summary: &str) {
    if sound_on() {
        beep();
    }
    let hidden = web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
    if !hidden || permission() != "granted" {
        return;
    }
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"body".into(), &summary.into());
    let _ = js_sys::Reflect::set(&options, &"tag".into(), &"tandem-offer".into());
    let Ok(notification) = js::Notification::new("A customer is offered to you", &options) else {
        return;
    };
    let shown = notification.clone();
    let focus = Closure::<dyn FnMut()>::new(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
            focus_accept(&window);
        }
        shown.close();
    });
    notification.set_onclick(focus.as_ref().unchecked_ref());
    focus.forget();
}

/// Shows the countdown in the tab's title while an offer is open (`None`: the console's own).
pub fn title(seconds_left: Option<i64>) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        match seconds_left {
            Some(left) => document.set_title(&format!("({left} s) A customer for you · {TITLE}")),
            None => document.set_title(TITLE),
        }
    }
}

fn focus_accept(window: &web_sys::Window) {
    let button =
        window.document().and_then(|d| d.query_selector("[data-testid=offer-accept]").ok().flatten());
    if let Some(button) = button.and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = button.focus();
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn sound_on() -> bool {
    storage().and_then(|s| s.get_item(SOUND_KEY).ok().flatten()).is_some_and(|v| v == "on")
}

/// A short, quiet two-note tone.
fn beep() {
    let Ok(audio) = js::AudioContext::new() else { return };
    let (tone, volume) = (audio.create_oscillator(), audio.create_gain());
    volume.gain().set_value(0.08);
    let now = audio.current_time();
    tone.frequency().set_value(880.0);
    tone.frequency().set_value_at_time(660.0, now + 0.15);
    tone.connect(&volume);
    volume.connect(&audio.destination());
    tone.start();
    tone.stop(now + 0.3);
}

/// The agent's settings for offers: allow notifications (while the browser has not been
/// asked), and a tone with each offer.
#[component]
pub fn OfferSettings() -> impl IntoView {
    let permission = RwSignal::new(permission());
    let sound = RwSignal::new(sound_on());
    let ask = move |_| {
        if let Ok(asked) = js::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(asked).await;
                permission.set(self::permission());
            });
        }
    };
    let toggle_sound = move |_| {
        let on = !sound.get_untracked();
        if let Some(storage) = storage() {
            let _ = storage.set_item(SOUND_KEY, if on { "on" } else { "off" });
        }
        sound.set(on);
    };
    view! {
        <div class="offer-settings" data-testid="offer-settings">
            {move || match permission.get().as_str() {
                "default" => view! {
                    <button data-testid="allow-notifications" on:click=ask>
                        "Notify me of offers when this tab is in the background"
                    </button>
                }.into_any(),
                "denied" => view! {
                    <p data-testid="notifications-blocked">
                        "Offer notifications are blocked in this browser's site settings."
                    </p>
                }.into_any(),
                "granted" => view! { <p data-testid="notifications-on">"Offer notifications are on."</p> }.into_any(),
                _ => ().into_any(),
            }}
            <label>
                <input type="checkbox" data-testid="offer-sound" prop:checked=move || sound.get() on:change=toggle_sound/>
                " Play a tone with each offer"
            </label>
        </div>
    }
}
