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
    /// Refused for good (the conversation ended, the text was invalid): shown as not sent,
    /// never sent again.
    pub not_sent: bool,
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
        let pending = Pending { to, client_id: ClientMessageId(client_id()), text, not_sent: false };
        self.0.update(|outbox| outbox.push(pending.clone()));
        send(pending);
    }

    /// After a reconnect (or a `rate_limited`): hands every unacknowledged message to `send`
    /// again, but those refused for good.
    pub fn resend(self, send: impl Fn(Pending<To>)) {
        for pending in self.0.get_untracked() {
            if !pending.not_sent {
                send(pending);
            }
        }
    }

    /// The server will never store this one: it stays on screen as not sent.
    pub fn refused(self, client_id: &ClientMessageId) {
        self.0.update(|outbox| {
            for pending in outbox.iter_mut().filter(|pending| &pending.client_id == client_id) {
                pending.not_sent = true;
            }
        });
    }

    /// Everything held, tracked: for a page that keeps its outbox across navigation.
    pub fn held(self) -> Vec<Pending<To>> {
        self.0.get()
    }

    /// Takes back what a previous page held (sent again on the next connection).
    pub fn restore(self, held: Vec<Pending<To>>) {
        self.0.set(held);
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
