//! Browser plumbing shared by the widget and the console, so that neither writes it twice.
//!
//! - [`LiveSocket`]: a WebSocket that reconnects with exponential backoff and jitter, and at once
//!   when the browser comes back online or the tab becomes visible again.
//! - [`to_json`] / [`from_json`]: serde through the browser's own JSON (smaller than serde_json).
//! - [`client_id`]: random ids for messages, so that resends are recognised.
//! - [`fetch_json`]: an HTTP request with a JSON body and answer.
//!
//! And the chat logic both sides have, in Leptos terms:
//!
//! - [`Channel`]: the live socket as a `Copy` handle, frames out as JSON and events in.
//! - [`Outbox`]: messages sent but not yet acknowledged, sent again after a reconnect.
//! - [`Draft`]: a composer's text, and when typing starts and stops.
//! - [`append_new`], [`last_held`], [`MessagesThenPending`]: a conversation's messages in order.
//! - [`Reading`]: read receipts, told of what was on screen.
//! - [`send_file`], [`fetch_file`]: files in a chat, sent with their progress.

mod channel;
mod draft;
mod files;
mod json;
mod outbox;
mod reading;
mod socket;
mod transcript;

pub use channel::Channel;
pub use draft::{Draft, enter_sends};
pub use files::{NotSent, chosen_files, fetch_file, forget_file, send_file, size_text};
pub use json::{
    FetchError, fetch_json, fetch_json_with_bearer, from_json, from_value, json_strings, post_json_text,
    to_json,
};
pub use outbox::{Outbox, Pending};
pub use reading::{Reading, after_ms, tab_visible, when_visible};
pub use socket::{Connection, LiveSocket};
pub use transcript::{MessagesThenPending, append_new, last_held};

/// A random id (128 bits, hex) from the browser's cryptographic generator.
pub fn client_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            // Math.random is weaker, but a client id only has to be unique, not secret.
            #[allow(clippy::cast_possible_truncation, reason = "0 ≤ value < 256")]
            let random = (js_sys::Math::random() * 256.0) as u8;
            *byte = random;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `window.localStorage`, when the browser allows it (private modes and sandboxes may not).
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|window| window.local_storage().ok().flatten())
}

/// The tab's `sessionStorage`, when the browser allows it (it survives navigation in the tab,
/// and nothing else).
pub fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|window| window.session_storage().ok().flatten())
}
