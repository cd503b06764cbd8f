use leptos::prelude::*;
use tandem_protocol::ClientMessageId;

use crate::client_id;

/// A message sent but not acknowledged by the server yet, and where it goes (`To`: the
/// conversation on the console; `()` in the widget, which has one).
#[derive(Debug, Clone, PartialEq)]
pub struct Pending<To> {
    pub to: To,
    pub client_id: ClientMessageId,
    pub text: String,
}

/// What was sent and not yet acknowledged, shown as "sending" until the server confirms it.
/// Each message keeps its client id when sent again after a reconnect, and the server stores
/// each client id once, so nothing is lost or doubled.
#[derive(Debug)]
pub struct Outbox<To: Send + Sync + 'static>(RwSignal<Vec<Pending<To>>>);

impl<To: Send + Sync + 'static> Clone for Outbox<To> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<To: Send + Sync + 'static> Copy for Outbox<To> {}

impl<To: Clone + PartialEq + Send + Sync + 'static> Default for Outbox<To> {
    fn default() -> Self {
        Self::new()
    }
}

impl<To: Clone + PartialEq + Send + Sync + 'static> Outbox<To> {
    pub fn new() -> Self {
        Self(RwSignal::new(Vec::new()))
    }

    /// Keeps `text` under a fresh client id and hands it to `send` at once (which may fail: it
    /// stays here until acknowledged).
    pub fn send(self, to: To, text: String, send: impl FnOnce(Pending<To>)) {
        let pending = Pending { to, client_id: ClientMessageId(client_id()), text };
        self.0.update(|outbox| outbox.push(pending.clone()));
        send(pending);
    }

    /// After a reconnect: hands every unacknowledged message to `send` again.
    pub fn resend(self, send: impl Fn(Pending<To>)) {
        for pending in self.0.get_untracked() {
            send(pending);
        }
    }

    /// The server stored the message with this client id.
    pub fn acknowledged(self, client_id: &ClientMessageId) {
        self.0.update(|outbox| outbox.retain(|pending| &pending.client_id != client_id));
    }

    /// Drops what was waiting for `to` (its conversation ended).
    pub fn forget(self, to: &To) {
        self.0.update(|outbox| outbox.retain(|pending| &pending.to != to));
    }

    /// What is still on its way to `to`, tracked for the view.
    pub fn waiting_for(self, to: &To) -> Vec<Pending<To>> {
        self.0.with(|outbox| outbox.iter().filter(|pending| &pending.to == to).cloned().collect())
    }
}
