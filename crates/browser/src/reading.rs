//! Read receipts ("Seen"), the side that reads: how far the conversations on screen were read,
//! told to the other side at most once a second, and only while the tab is visible (a message
//! that arrives in a hidden tab is not read until the tab shows again).

use leptos::prelude::*;
use tandem_protocol::Seq;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// What this side has told of its reading, by conversation (`()` for the widget's one).
pub struct Reading<K: Send + Sync + 'static> {
    told: StoredValue<Vec<(K, Seq)>>,
    due: StoredValue<bool>,
}

impl<K: Send + Sync> Clone for Reading<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: Send + Sync> Copy for Reading<K> {}

impl<K: PartialEq + Clone + Send + Sync + 'static> Reading<K> {
    pub fn new() -> Self {
        Self { told: StoredValue::new(Vec::new()), due: StoredValue::new(false) }
    }

    /// The conversations on screen, each with the `seq` of its last message (`latest`, read when
    /// the second is up): `tell` sends a `read` for each further than told before, and says
    /// whether it went (a closed socket's is told again next time).
    pub fn seen(
        self,
        latest: impl Fn() -> Vec<(K, Seq)> + 'static,
        tell: impl Fn(&K, Seq) -> bool + 'static,
    ) {
        if self.due.get_value() {
            return;
        }
        self.due.set_value(true);
        after_ms(1000, move || {
            self.due.set_value(false);
            if !tab_visible() {
                return;
            }
            for (key, seq) in latest() {
                let told =
                    self.told.with_value(|told| told.iter().find(|(k, _)| *k == key).map_or(0, |t| t.1));
                if seq > told && tell(&key, seq) {
                    self.told.update_value(|told| {
                        told.retain(|(k, _)| *k != key);
                        told.push((key, seq));
                    });
                }
            }
        });
    }
}

impl<K: Send + Sync + 'static> Reading<K> {
    /// Forgets what was told (a new conversation, whose sequence numbers start again).
    pub fn forget(self) {
        self.told.update_value(Vec::clear);
    }
}

impl<K: PartialEq + Clone + Send + Sync + 'static> Default for Reading<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether the page is on screen (`document.visibilityState`).
pub fn tab_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

/// Calls `f` each time the tab shows again, for as long as the page lives.
pub fn when_visible(f: impl Fn() + 'static) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let shown = Closure::<dyn Fn()>::new(move || {
        if tab_visible() {
            f();
        }
    });
    let _ = document.add_event_listener_with_callback("visibilitychange", shown.as_ref().unchecked_ref());
    shown.forget();
}

/// Runs `f` once, `ms` milliseconds from now.
pub fn after_ms(ms: i32, f: impl FnOnce() + 'static) {
    schedule(ms, Box::new(f));
}

/// One instance of the JS glue for every caller of [`after_ms`], whatever its closure.
fn schedule(ms: i32, f: Box<dyn FnOnce()>) {
    let later = Closure::once_into_js(f);
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), ms);
    }
}
