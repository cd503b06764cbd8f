use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Connection, LiveSocket, from_json, to_json};

/// The live socket a widget or desk keeps, as a `Copy` handle so that every event handler can
/// send on it: frames go out as JSON, events come in decoded.
#[derive(Debug, Clone, Copy)]
pub struct Channel(StoredValue<Option<LiveSocket>, LocalStorage>);

impl Default for Channel {
    fn default() -> Self {
        Self::new()
    }
}

impl Channel {
    /// Not connected yet: [`Channel::send`] refuses until [`Channel::connect`].
    pub fn new() -> Self {
        Self(StoredValue::new_local(None))
    }

    /// Connects to `url` (replacing any earlier socket); `on_open` runs after each
    /// (re)connection, `on_event` for each event that decodes as an `E`.
    pub fn connect<E: DeserializeOwned>(
        self,
        url: String,
        on_open: impl Fn() + 'static,
        on_event: impl Fn(E) + 'static,
        on_connection: impl Fn(Connection) + 'static,
    ) {
        let socket = LiveSocket::connect(
            url,
            move |()| on_open(),
            move |text| {
                if let Some(event) = from_json::<E>(&text) {
                    on_event(event);
                }
            },
            on_connection,
        );
        self.0.set_value(Some(socket));
    }

    /// Sends `frame`; `false` when the socket is down (the caller's outbox keeps what matters).
    pub fn send<F: Serialize>(self, frame: &F) -> bool {
        let Some(json) = to_json(frame) else { return false };
        self.0.with_value(|socket| socket.as_ref().is_some_and(|s| s.send(&json)))
    }

    /// Closes for good: no more reconnecting.
    pub fn close(self) {
        self.0.with_value(|socket| {
            if let Some(socket) = socket {
                socket.close();
            }
        });
    }
}
