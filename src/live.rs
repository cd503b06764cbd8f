//! The live chat's code: what the widget runs once the customer asks for a person (or comes
//! back to a conversation with one) — the requests, the live socket, and the protocol's events.
//!
//! Built with the `lazy` feature (the release build), [`run`] is the one way into a second
//! wasm module: everything only it reaches (`Handoff::…_now` and what they call) is split off
//! by `cargo xtask` (`xtask/src/split.rs`) and fetched by the page only when first needed. The
//! panel, the bot and the human button never wait for it; the handoff's state (its signals) and
//! what is sent on an open socket stay in the first module. Without the feature (the wasm
//! tests) it is all one module and [`run`] calls straight through.

use leptos::prelude::*;
use leptos::task::spawn_local;
#[cfg(feature = "lazy")]
use leptos::wasm_split::SplitLoaderError;
#[cfg(feature = "lazy")]
use std::{cell::Cell, rc::Rc};
use tandem_protocol::{CustomerFrame, Rating};

use crate::ConfigState;
use crate::handoff::{Failure, Handoff, Phase, Unanswered};

/// What the live module draws: the views of what only its code brings about, so that they come
/// with it (the first module draws them through [`Handoff::drawn_live`]).
pub enum Drawn {
    /// Below the conversation, for the phase the handoff is in (the queue, the forms, the end).
    Phase(ReadSignal<ConfigState>),
    /// The header's word on the person who answers.
    Talking(String),
    /// The conversation with the person: its messages, what is being sent, a file on its way,
    /// "Seen", the person typing.
    Conversation,
    /// The composer's controls for a chat with a person: the attach button (before the text
    /// box) and the end button (below it).
    Attach,
    End,
    /// Above the conversation: the live socket is being opened again.
    Reconnecting,
}

/// What the live module hands the first when it is here: its views, and its way onto the live
/// socket (so that the frames' encoding and the socket's code come with it; before it is here
/// there is no socket, and what the customer sends waits in the outbox).
#[derive(Clone, Copy)]
pub struct Arrived {
    pub draw: fn(Handoff, Drawn) -> AnyView,
    /// Sends a frame; `false` when the socket is down.
    pub send: fn(Handoff, &CustomerFrame) -> bool,
}

const ARRIVED: Arrived = Arrived { draw: crate::conversation::live_view, send: Handoff::send_now };

/// The live module as the widget starts: there already when it is all one module.
pub fn at_start() -> Option<Arrived> {
    #[cfg(feature = "lazy")]
    return None;
    #[cfg(not(feature = "lazy"))]
    return Some(ARRIVED);
}

/// Hears how sending a transcript went (a catalogue key for a failure).
pub type Done = Box<dyn FnOnce(Result<(), &'static str>)>;

/// What the handoff asks of the live chat.
pub enum Task {
    /// Whether anyone can answer, then the details or the queue.
    Availability,
    /// Into the queue, with the email the customer gave (if asked).
    Join {
        email: Option<String>,
    },
    /// Open the conversation's live socket (after a reload, or once queued).
    Connect,
    LeaveMessage {
        email: String,
        text: String,
    },
    /// The leave-a-message form, and why nobody answers live.
    Offer(Unanswered),
    Rate(Rating),
    Transcript {
        email: String,
        done: Done,
    },
    Files(Vec<web_sys::File>),
}

impl Task {
    /// Carried out, in the live module.
    fn apply(self, handoff: Handoff) {
        match self {
            Self::Availability => handoff.check_availability(),
            Self::Join { email } => handoff.join_queue_now(email),
            Self::Connect => handoff.connect_now(),
            Self::LeaveMessage { email, text } => handoff.leave_message_now(email, text),
            Self::Offer(why) => handoff.offer_message_now(why),
            Self::Rate(rating) => handoff.rate_now(rating),
            Self::Transcript { email, done } => handoff.send_transcript_now(email, done),
            Self::Files(files) => handoff.send_files_now(files),
        }
    }

    /// The live module could not be fetched: said as for a server that cannot be reached,
    /// where the customer is, so that they still learn how else to reach the merchant.
    fn failed(self, handoff: Handoff) {
        match self {
            Self::Transcript { done, .. } => done(Err("transcript.failed")),
            // Nothing was sent: the rating form and the file button stay, for another try.
            Self::Rate(_) | Self::Files(_) => handoff.tell("failed.unreachable"),
            _ => handoff.phase.set(Phase::Failed(Failure::Unreachable)),
        }
    }
}

/// Runs `task` once the live chat's code is here (at once after the first time).
pub fn run(handoff: Handoff, task: Task) {
    spawn_local(async move {
        // A failed fetch is not kept: the next task tries again.
        if let Err(task) = apply(handoff, task).await {
            task.failed(handoff);
        }
    });
}

/// The pointer reached the human button (a mouse over it, a finger on it): the live module
/// starts coming before the press. A failure is left for the press to meet, and retry.
pub fn preload() {
    #[cfg(feature = "lazy")]
    spawn_local(async {
        let _ = preload_live().await;
    });
}

#[cfg(feature = "lazy")]
async fn apply(handoff: Handoff, task: Task) -> Result<(), Task> {
    // The task waits here, in the first module, while the second is fetched; it comes back if
    // that fails.
    let held = Rc::new(Cell::new(Some(task)));
    match in_live_module(handoff, held.clone()).await {
        Ok(()) => Ok(()),
        Err(SplitLoaderError { .. }) => held.take().map_or(Ok(()), Err),
    }
}

/// The one way into the second module: everything only this reaches is fetched with it.
#[cfg(feature = "lazy")]
#[leptos::wasm_split::wasm_split(live, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_live))]
fn in_live_module(handoff: Handoff, held: Rc<Cell<Option<Task>>>) -> Result<(), SplitLoaderError> {
    crate::i18n::live_words_arrived();
    handoff.live_arrived(ARRIVED);
    if let Some(task) = held.take() {
        task.apply(handoff);
    }
    Ok(())
}

#[cfg(not(feature = "lazy"))]
async fn apply(handoff: Handoff, task: Task) -> Result<(), Task> {
    task.apply(handoff);
    Ok(())
}
