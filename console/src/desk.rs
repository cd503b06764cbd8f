//! The signed-in agent's desk: presence, the queue and the open chats, kept live.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::{
    Channel, Connection, Draft, FetchError, MessagesThenPending, Outbox, Pending, Reading, append_new,
    fetch_json, tab_visible, when_visible,
};
use tandem_protocol::{
    AgentEvent, AgentFrame, AgentProfile, Author, ChatMessage, ClientMessageId, ConversationDetail,
    ConversationId, ConversationStatus, CustomerProfile, ErrorCode, EscalationReason, HandoffReason,
    OfferEnd, Presence, QueueEntry, Rating, Seq, TeamMember, TranscriptEntry, TranscriptSpeaker,
    validate_text,
};

/// A customer offered to this agent alone, until the local deadline.
#[derive(Debug, Clone, PartialEq)]
struct Offer {
    entry: QueueEntry,
    /// Local clock: the server's timeout counted from when the offer arrived, so clocks that
    /// disagree do not matter.
    deadline_ms: f64,
}

/// Live state of the desk, shared by its components (every field is `Copy`).
#[derive(Clone, Copy)]
pub(crate) struct Live {
    /// The signed-in agent's id.
    me: i64,
    presence: RwSignal<Presence>,
    queue: RwSignal<Vec<QueueEntry>>,
    chats: RwSignal<Vec<ConversationDetail>>,
    typing: RwSignal<Vec<ConversationId>>,
    /// What the agent sent and the server has not acknowledged yet, by conversation.
    outbox: Outbox<ConversationId>,
    connection: RwSignal<Connection>,
    /// The server has welcomed this session: the agent counts as online for customers.
    ready: RwSignal<bool>,
    pub(crate) notice: RwSignal<Option<String>>,
    /// The sign-in session ended (signed out elsewhere, expired, password reset): the desk
    /// stays, with what the agent sends meanwhile kept, until they sign in again.
    signed_out: RwSignal<bool>,
    offer: RwSignal<Option<Offer>>,
    /// Milliseconds since the epoch, refreshed so waiting times move.
    now_ms: RwSignal<f64>,
    socket: Channel,
    /// Drafts replies from the merchant's flow.
    suggester: crate::suggest::Suggester,
    /// How far each customer has read ("Seen" under the agent's last message).
    customer_read: RwSignal<Vec<(ConversationId, Seq)>>,
    /// How far the agent has read each chat, as told to the customers.
    reading: Reading<ConversationId>,
    /// The merchant's canned responses, found with `/` in a composer.
    canned: crate::canned::Canned,
    /// The chat in the desk's centre; the others wait in the list on the left.
    selected: RwSignal<Option<ConversationId>>,
    /// Per chat, the last message the agent had on screen (what is after it is unread).
    shown: RwSignal<Vec<(ConversationId, Seq)>>,
    /// The desk is the view on screen (an admin may be in the supervisor's instead).
    desk_shown: Signal<bool>,
}

impl Live {
    /// The desk's state for the signed-in agent `me`, connected to the live channel.
    fn connect(
        me: i64,
        merchant: &tandem_protocol::MerchantId,
        canned: crate::canned::Canned,
        desk_shown: Signal<bool>,
    ) -> Self {
        let live = Self {
            me,
            presence: RwSignal::new(Presence::Online),
            queue: RwSignal::new(Vec::new()),
            chats: RwSignal::new(Vec::new()),
            typing: RwSignal::new(Vec::new()),
            outbox: Outbox::new(),
            connection: RwSignal::new(Connection::Connecting),
            ready: RwSignal::new(false),
            notice: RwSignal::new(None),
            signed_out: RwSignal::new(false),
            offer: RwSignal::new(None),
            now_ms: RwSignal::new(now()),
            socket: Channel::new(),
            suggester: crate::suggest::Suggester::load(merchant),
            customer_read: RwSignal::new(Vec::new()),
            reading: Reading::new(),
            canned,
            selected: RwSignal::new(None),
            shown: RwSignal::new(Vec::new()),
            desk_shown,
        };
        live.open_socket();
        when_visible(move || live.see());
        live
    }

    /// The chat in the centre is on screen: what arrived in it is read once the tab is
    /// visible (no longer unread in the list), and the customer is told (see [`Reading`]).
    fn see(self) {
        if !self.desk_shown.get_untracked() {
            return;
        }
        let latest = move || self.on_screen().into_iter().collect();
        if tab_visible()
            && let Some((id, last)) = self.on_screen()
            && last > shown_up_to(self.shown, &id, false)
        {
            self.shown.update(|shown| {
                shown.retain(|(c, _)| *c != id);
                shown.push((id, last));
            });
        }
        let tell =
            move |id: &ConversationId, seq| self.send(&AgentFrame::Read { conversation_id: id.clone(), seq });
        self.reading.seen(latest, tell);
    }

    /// The chat in the centre, while it is under way, and the `seq` of its last message.
    fn on_screen(self) -> Option<(ConversationId, Seq)> {
        let selected = self.selected.get_untracked()?;
        self.chats.with_untracked(|chats| {
            let chat = chats.iter().find(|c| c.conversation_id == selected)?;
            let last = chat.messages.last().filter(|_| chat.status == ConversationStatus::Active)?;
            Some((selected, last.seq))
        })
    }

    /// (Re)opens the live channel; a connection that keeps failing is checked against the
    /// session, since a browser never sees an upgrade's 401.
    fn open_socket(self) {
        self.socket.connect(
            live_url(),
            || {},
            move |event: AgentEvent| self.on_event(event),
            move |connection| {
                if connection == Connection::Reconnecting {
                    self.check_session();
                }
                self.connection.set(connection);
            },
        );
    }

    fn check_session(self) {
        spawn_local(async move {
            if let Err(FetchError::Status(401, _)) =
                fetch_json::<(), AgentProfile>("GET", "/v1/agent/me", None).await
            {
                self.session_ended();
            }
        });
    }

    /// The session is over: no more reconnecting, and the sign-in form over the desk, which
    /// keeps its chats and what is still to be sent (sent once the agent is back).
    fn session_ended(self) {
        if !self.signed_out.get_untracked() {
            self.signed_out.set(true);
            self.socket.close();
        }
    }

    fn send(self, frame: &AgentFrame) -> bool {
        self.socket.send(frame)
    }

    fn on_event(self, event: AgentEvent) {
        match event {
            AgentEvent::Welcome { presence, chats, .. } => self.welcomed(presence, chats),
            AgentEvent::Queue { entries } => self.queue.set(entries),
            AgentEvent::Accepted { conversation } => self.accepted(conversation),
            AgentEvent::Offer { offer, timeout_secs, .. } => {
                let deadline_ms = now() + f64::from(timeout_secs) * 1000.0;
                self.now_ms.set(now());
                crate::alert::offer_arrived(&entry_summary(&offer));
                self.offer.set(Some(Offer { entry: offer, deadline_ms }));
            }
            AgentEvent::OfferEnded { conversation_id, reason } => self.offer_ended(&conversation_id, reason),
            AgentEvent::SetAway { missed_offers } => {
                self.notice.set(Some(format!(
                    "You let {missed_offers} offers in a row expire, so you are now Away. Switch “Taking new customers” on to be offered customers again; to hear of the next offers even in another tab, turn on offer notifications or the tone."
                )));
            }
            AgentEvent::Message { conversation_id, message } => self.on_message(&conversation_id, message),
            AgentEvent::Transcript { conversation_id, messages } => {
                self.update_chat(&conversation_id, |chat| chat.messages = messages);
                self.see();
            }
            AgentEvent::Ack { client_id, .. } => self.outbox.acknowledged(&client_id),
            AgentEvent::Typing { conversation_id, typing } => self.typing.update(|list| {
                list.retain(|id| id != &conversation_id);
                if typing {
                    list.push(conversation_id);
                }
            }),
            AgentEvent::Read { conversation_id, seq } => self.customer_read.update(|read| {
                let before = read.iter().find(|(id, _)| id == &conversation_id).map_or(0, |r| r.1);
                read.retain(|(id, _)| id != &conversation_id);
                read.push((conversation_id, seq.max(before)));
            }),
            AgentEvent::Note { conversation_id, note } => self.update_chat(&conversation_id, |chat| {
                if chat.notes.iter().all(|held| held.id != note.id) {
                    chat.notes.push(note);
                }
            }),
            AgentEvent::Ended { conversation_id } => self.ended(&conversation_id),
            AgentEvent::Rated { conversation_id, rating } => {
                self.update_chat(&conversation_id, |chat| chat.rating = Some(rating));
            }
            AgentEvent::Presence { presence } => self.presence.set(presence),
            AgentEvent::Error { code: ErrorCode::Unauthorized, .. } => self.session_ended(),
            AgentEvent::Error { message, .. } => self.notice.set(Some(message)),
        }
    }

    /// The server (again) welcomes this session with every open chat; after a reconnect,
    /// what was not acknowledged goes again (stored once).
    fn welcomed(self, presence: Presence, chats: Vec<ConversationDetail>) {
        self.ready.set(true);
        self.presence.set(presence);
        self.chats.set(chats);
        self.keep_a_selection();
        self.see();
        self.outbox.resend(|pending| {
            self.send(&AgentFrame::Send {
                conversation_id: pending.to,
                client_id: pending.client_id,
                text: pending.text,
            });
        });
    }

    /// The agent took a chat (from the queue, an offer or a colleague's transfer).
    fn accepted(self, conversation: ConversationDetail) {
        let id = conversation.conversation_id.clone();
        self.offer.update(|offer| {
            if offer.as_ref().is_some_and(|o| o.entry.conversation_id == conversation.conversation_id) {
                *offer = None;
            }
        });
        self.chats.update(|chats| {
            chats.retain(|chat| chat.conversation_id != conversation.conversation_id);
            chats.push(conversation);
        });
        self.select(id);
    }

    /// Brings a chat to the centre.
    fn select(self, id: ConversationId) {
        self.selected.set(Some(id));
        self.see();
    }

    /// The selected chat, or else the first one, stays in the centre as chats come and go.
    fn keep_a_selection(self) {
        let selected = self.selected.get_untracked();
        let first = self.chats.with_untracked(|chats| {
            let kept = chats.iter().any(|c| Some(&c.conversation_id) == selected.as_ref());
            (!kept).then(|| chats.first().map(|c| c.conversation_id.clone()))
        });
        if let Some(first) = first {
            self.selected.set(first);
            self.see();
        }
    }

    /// The next (`step` 1) or previous (-1) chat in the list, round.
    fn select_next(self, step: isize) {
        let selected = self.selected.get_untracked();
        let next = self.chats.with_untracked(|chats| {
            let at = chats.iter().position(|c| Some(&c.conversation_id) == selected.as_ref())?;
            let len = isize::try_from(chats.len()).ok()?;
            let at = isize::try_from(at).ok()?;
            let next = usize::try_from((at + step).rem_euclid(len)).ok()?;
            chats.get(next).map(|c| c.conversation_id.clone())
        });
        if let Some(next) = next {
            self.select(next);
        }
    }

    fn offer_ended(self, conversation_id: &ConversationId, reason: OfferEnd) {
        let was_shown = self.offer.with_untracked(|offer| {
            offer.as_ref().is_some_and(|o| &o.entry.conversation_id == conversation_id)
        });
        if was_shown {
            self.offer.set(None);
            if reason == OfferEnd::Expired {
                self.notice.set(Some("The offer expired and went to the next agent.".into()));
            }
        }
    }

    pub(crate) fn on_message(self, conversation_id: &ConversationId, message: ChatMessage) {
        self.outbox.acknowledged(&message.client_id);
        if message.author == Author::Customer {
            self.typing.update(|typing| typing.retain(|id| id != conversation_id));
        }
        self.update_chat(conversation_id, |chat| {
            append_new(&mut chat.messages, message);
        });
        self.see();
    }

    /// The chat stays on the desk, ended, until the agent closes it: the customer's rating may
    /// still come.
    fn ended(self, conversation_id: &ConversationId) {
        self.update_chat(conversation_id, |chat| chat.status = ConversationStatus::Ended);
        self.outbox.forget(conversation_id);
        self.typing.update(|typing| typing.retain(|id| id != conversation_id));
    }

    fn update_chat(self, id: &ConversationId, change: impl FnOnce(&mut ConversationDetail)) {
        self.chats.update(|chats| {
            if let Some(chat) = chats.iter_mut().find(|chat| &chat.conversation_id == id) {
                change(chat);
            }
        });
    }

    /// Takes a chat off the desk (closed after it ended, or put back in the queue).
    fn remove_chat(self, id: &ConversationId) {
        self.chats.update(|chats| chats.retain(|chat| &chat.conversation_id != id));
        self.keep_a_selection();
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// The last message of `id` the agent had on screen (tracked or not).
fn shown_up_to(shown: RwSignal<Vec<(ConversationId, Seq)>>, id: &ConversationId, tracked: bool) -> Seq {
    let find = |shown: &Vec<(ConversationId, Seq)>| shown.iter().find(|(c, _)| c == id).map_or(0, |s| s.1);
    if tracked { shown.with(find) } else { shown.with_untracked(find) }
}

fn live_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).is_some_and(|p| p == "https:");
    format!("{}://{host}/v1/agent/live", if secure { "wss" } else { "ws" })
}

fn reason_text(reason: HandoffReason) -> &'static str {
    match reason {
        HandoffReason::Button => "pressed “Talk to a human”",
        HandoffReason::TypedRequest => "asked for a person",
        HandoffReason::BotOffer => "accepted the bot's offer of a person",
    }
}

fn skill_text(skill: Option<&str>) -> String {
    skill.map(|skill| format!(" · needs {skill}")).unwrap_or_default()
}

/// A waiting customer in one line, as the queue and an offer show them: language, why a person,
/// and the skill needed.
fn entry_summary(entry: &QueueEntry) -> String {
    format!(
        "{} · {}{}{}",
        entry.locale,
        reason_text(entry.reason),
        escalation_text(entry.escalation),
        skill_text(entry.skill.as_deref())
    )
}

fn escalation_text(escalation: Option<EscalationReason>) -> &'static str {
    match escalation {
        None => "",
        Some(EscalationReason::ExplicitRequest) => " · asked the bot for a person",
        Some(EscalationReason::RepeatedFallback) => " · the bot did not understand twice",
        Some(EscalationReason::Frustration) => " · seemed upset with the bot",
    }
}

fn waited(since_ms: i64, now_ms: f64) -> String {
    #[allow(clippy::cast_possible_truncation, reason = "whole minutes of a wait")]
    let minutes = ((now_ms - since_ms as f64) / 60_000.0).floor().max(0.0) as i64;
    match minutes {
        0 => "less than a minute".to_owned(),
        1 => "1 minute".to_owned(),
        n => format!("{n} minutes"),
    }
}

#[component]
pub fn Desk(
    profile: AgentProfile,
    sign_out: Callback<()>,
    signed_in_as: Callback<AgentProfile>,
    canned: crate::canned::Canned,
    /// Whether the desk is the view on screen (an admin may be in the supervisor's).
    shown: Signal<bool>,
) -> impl IntoView {
    let live = Live::connect(profile.id, &profile.merchant_id, canned, shown);
    // Back on the desk: the chat in the centre is read now.
    Effect::new(move |_| {
        if shown.get() {
            live.see();
        }
    });
    let signed_in_again = Callback::new(move |again: AgentProfile| {
        if again.id == live.me {
            live.signed_out.set(false);
            live.open_socket();
        } else {
            signed_in_as.run(again);
        }
    });
    let _clock = set_interval_with_handle(move || live.now_ms.set(now()), std::time::Duration::from_secs(15));
    on_cleanup(move || live.socket.close());
    view! {
        <DeskBar name=profile.display_name live sign_out/>
        <crate::alert::OfferSettings/>
        <Show when=move || live.signed_out.get()>
            <section class="signed-out" aria-labelledby="signed-out-heading" data-testid="signed-out">
                <h2 id="signed-out-heading">"Your session ended"</h2>
                <p>"Sign in again to carry on. What you send meanwhile is kept, and sent once you are back."</p>
                <crate::SignInForm on_signed_in=signed_in_again/>
            </section>
        </Show>
        {move || live.notice.get().map(|notice| view! {
            <p class="notice" role="alert" data-testid="notice">{notice}</p>
        })}
        // Always in the page, so that screen readers announce an offer the moment it comes.
        <p class="visually-hidden" aria-live="assertive" data-testid="offer-announcement">
            {move || live.offer.with(|offer| offer.as_ref().map(|_| "A customer is offered to you: accept or decline."))}
        </p>
        // Three panes: the agent's chats, the queue and left messages on the left; the chat in
        // the centre; who the customer is and what the bot heard on the right (in the chat).
        <main class="desk">
            <nav class="desk-side" aria-label="Chats, queue and left messages">
                <ChatList live/>
                <section class="queue" aria-labelledby="queue-title" data-testid="queue">
                    <h2 id="queue-title">{move || format!("Waiting ({})", live.queue.with(Vec::len))}</h2>
                    <ul>
                        <For each=move || live.queue.get() key=|entry| entry.conversation_id.clone() let:entry>
                            <QueueItem entry live/>
                        </For>
                    </ul>
                </section>
                <crate::messages::LeftMessages/>
            </nav>
            <div class="desk-main">
                {move || live.offer.get().map(|offer| view! { <OfferCard offer live/> })}
                <For each=move || live.chats.get() key=|chat| chat.conversation_id.clone() let:chat>
                    <Chat id=chat.conversation_id live/>
                </For>
                <Show when=move || live.chats.with(Vec::is_empty)>
                    <p class="empty" data-testid="no-chat">"No chat open. Customers offered to you, and the queue, are on the left."</p>
                </Show>
            </div>
        </main>
    }
}

/// Who is signed in, their presence (which they switch here), the connection and signing out.
#[component]
fn DeskBar(name: String, live: Live, sign_out: Callback<()>) -> impl IntoView {
    let toggle_presence = move |_| {
        let next = match live.presence.get_untracked() {
            Presence::Online => Presence::Away,
            Presence::Away | Presence::Offline => Presence::Online,
        };
        live.send(&AgentFrame::SetPresence { presence: next });
    };
    view! {
        <div class="desk-bar" data-testid="desk-bar" data-ready=move || live.ready.get().to_string()>
            <span data-testid="agent-name">{name}</span>
            // A switch, not a button named after the state: what it controls is its label, its
            // position is the state, and the line beside it says what pressing it does.
            <button
                type="button"
                role="switch"
                class="presence"
                data-testid="presence"
                aria-checked=move || (live.presence.get() == Presence::Online).to_string()
                aria-describedby="presence-state"
                on:click=toggle_presence
            >
                <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
                "Taking new customers"
            </button>
            <span id="presence-state" class="presence-state" data-testid="presence-state">
                {move || match live.presence.get() {
                    Presence::Online => "Online: customers are offered to you. Switch off to go away.",
                    Presence::Away | Presence::Offline => {
                        "Away: no customers are offered to you; your chats stay. Switch on to be offered customers."
                    }
                }}
            </span>
            <Show when=move || live.connection.get() == Connection::Reconnecting>
                <span class="banner" role="status" data-testid="reconnecting">"Reconnecting…"</span>
            </Show>
            <button class="sign-out" data-testid="sign-out" on:click=move |_| sign_out.run(())>"Sign out"</button>
        </div>
    }
}

/// One line of what the bot heard, after who said it; the queue, a chat and a left message
/// all show the bot conversation so.
pub fn transcript_line(line: TranscriptEntry) -> impl IntoView {
    let speaker = match line.from {
        TranscriptSpeaker::Customer => "Customer: ",
        TranscriptSpeaker::Bot => "Bot: ",
    };
    view! { <strong>{speaker}</strong>{line.text} }
}

/// The end of the bot conversation, as the queue and an offer show it.
#[component]
fn Preview(lines: Vec<TranscriptEntry>) -> impl IntoView {
    view! {
        <ul class="preview">
            {lines.into_iter().map(|line| view! { <li>{transcript_line(line)}</li> }).collect_view()}
        </ul>
    }
}

/// A customer offered to this agent alone: accept or decline before the countdown ends.
#[component]
fn OfferCard(offer: Offer, live: Live) -> impl IntoView {
    let id = StoredValue::new(offer.entry.conversation_id.clone());
    let deadline = offer.deadline_ms;
    // A second hand for the countdown, stopped with the card.
    let tick =
        set_interval_with_handle(move || live.now_ms.set(now()), std::time::Duration::from_secs(1)).ok();
    let seconds_left = move || {
        #[allow(clippy::cast_possible_truncation, reason = "whole seconds of a short countdown")]
        let left = ((deadline - live.now_ms.get()) / 1000.0).ceil().max(0.0) as i64;
        left
    };
    // The countdown in the tab's title, and the shortcuts (Alt+Shift+A, Alt+Shift+D).
    Effect::new(move |_| crate::alert::title(Some(seconds_left())));
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if !(event.alt_key() && event.shift_key()) {
            return;
        }
        let conversation_id = id.get_value();
        match event.code().strip_prefix("Key") {
            Some(crate::alert::ACCEPT_KEY) => {
                event.prevent_default();
                live.send(&AgentFrame::Accept { conversation_id });
            }
            Some(crate::alert::DECLINE_KEY) => {
                event.prevent_default();
                if live.send(&AgentFrame::Decline { conversation_id }) {
                    live.offer.set(None);
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || {
        if let Some(tick) = tick {
            tick.clear();
        }
        keys.remove();
        crate::alert::title(None);
    });
    let entry = offer.entry;
    view! {
        <section class="offer" role="region" aria-labelledby="offer-title" data-testid="offer">
            <h2 id="offer-title">"A customer for you"</h2>
            <p class="meta">{entry_summary(&entry)}</p>
            <Preview lines=entry.preview/>
            <p class="countdown" aria-live="off" data-testid="offer-countdown">
                {move || format!("{} s to answer", seconds_left())}
            </p>
            <p class="shortcuts" data-testid="offer-shortcuts">"Alt+Shift+A accepts, Alt+Shift+D declines."</p>
            <div class="offer-actions">
                <button class="accept" data-testid="offer-accept" on:click=move |_| {
                    live.send(&AgentFrame::Accept { conversation_id: id.get_value() });
                }>"Accept"</button>
                <button data-testid="offer-decline" on:click=move |_| {
                    if live.send(&AgentFrame::Decline { conversation_id: id.get_value() }) {
                        live.offer.set(None);
                    }
                }>"Decline"</button>
            </div>
        </section>
    }
}

#[component]
fn QueueItem(entry: QueueEntry, live: Live) -> impl IntoView {
    let id = entry.conversation_id.clone();
    let since = entry.waiting_since_ms;
    view! {
        <li class="queue-entry" data-testid="queue-entry">
            <p class="meta">
                {move || format!("Waiting {}", waited(since, live.now_ms.get()))}
                {format!(" · {}", entry_summary(&entry))}
            </p>
            <Preview lines=entry.preview/>
            <button
                data-testid="accept"
                on:click=move |_| {
                    live.send(&AgentFrame::Accept { conversation_id: id.clone() });
                }
            >
                "Accept"
            </button>
        </li>
    }
}

/// The agent's chats, each with its unread messages and how long the customer has waited for
/// an answer; one is in the centre. Alt+Shift+N and Alt+Shift+P move to the next and previous.
#[component]
fn ChatList(live: Live) -> impl IntoView {
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if !(event.alt_key() && event.shift_key() && live.desk_shown.get_untracked()) {
            return;
        }
        let step = match event.code().as_str() {
            "KeyN" => 1,
            "KeyP" => -1,
            _ => return,
        };
        event.prevent_default();
        live.select_next(step);
        focus_composer(live.selected.get_untracked());
    });
    on_cleanup(move || keys.remove());
    view! {
        <section class="my-chats" aria-labelledby="my-chats-title" data-testid="my-chats">
            <h2 id="my-chats-title">{move || format!("My chats ({})", live.chats.with(Vec::len))}</h2>
            <ul>
                <For each=move || live.chats.get() key=|chat| chat.conversation_id.clone() let:chat>
                    <ChatListItem id=chat.conversation_id live/>
                </For>
            </ul>
            <p class="shortcuts">"Alt+Shift+N and Alt+Shift+P: next and previous chat."</p>
        </section>
    }
}

#[component]
fn ChatListItem(id: ConversationId, live: Live) -> impl IntoView {
    let id = StoredValue::new(id);
    // Each line reads what it shows from the chat in place (a chat holds all its messages).
    let with_chat = move |read: &dyn Fn(&ConversationDetail) -> Option<String>| {
        live.chats.with(|chats| chats.iter().find(|c| c.conversation_id == id.get_value()).and_then(read))
    };
    let who = move || with_chat(&|c| Some(customer_text(&c.customer)));
    let selected = move || live.selected.with(|selected| selected.as_ref() == Some(&id.get_value()));
    let unread = move || {
        let after = shown_up_to(live.shown, &id.get_value(), true);
        with_chat(&|c| {
            let n = c.messages.iter().filter(|m| m.author == Author::Customer && m.seq > after).count();
            (n > 0).then(|| format!("{n} unread"))
        })
    };
    // The language, or that it ended; and since the customer's message that has no answer yet.
    let meta = move || {
        let now = live.now_ms.get();
        with_chat(&|c| {
            if c.status == ConversationStatus::Ended {
                return Some("ended".to_owned());
            }
            let waiting = c.messages.last().filter(|m| m.author == Author::Customer);
            Some(match waiting {
                Some(last) => format!("{} waiting {}", c.locale, waited(last.sent_at_ms, now)),
                None => c.locale.clone(),
            })
        })
    };
    view! {
        <li>
            <button
                type="button"
                class="chat-item"
                data-testid="chat-item"
                aria-current=move || selected().then_some("true")
                on:click=move |_| live.select(id.get_value())
            >
                <span class="who">{who}</span>
                <span class="meta">{meta}</span>
                {move || unread().map(|unread| view! { <span class="unread" data-testid="unread">{unread}</span> })}
            </button>
        </li>
    }
}

/// Puts the keyboard in the composer of chat `id`, once it is drawn.
fn focus_composer(id: Option<ConversationId>) {
    let Some(id) = id else { return };
    request_animation_frame(move || {
        let selector = format!("[data-conversation=\"{}\"] [data-testid=chat-input]", id.0);
        let found = document().query_selector(&selector).ok().flatten();
        if let Some(input) =
            found.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        {
            let _ = input.focus();
        }
    });
}

/// One chat on the desk: who and where, the conversation, and, until it ends, the reply box and
/// what the agent can do with the chat.
#[component]
fn Chat(id: ConversationId, live: Live) -> impl IntoView {
    let chat_id = id.clone();
    let chat = Memo::new(move |_| {
        live.chats.with(|chats| chats.iter().find(|c| c.conversation_id == chat_id).cloned())
    });
    let id = StoredValue::new(id);
    let ended =
        move || chat.with(|chat| chat.as_ref().is_some_and(|c| c.status == ConversationStatus::Ended));
    // Shared by the composer and the suggested reply, which the agent may take into it.
    let draft = Draft::new(Callback::new(move |typing| {
        live.send(&AgentFrame::Typing { conversation_id: id.get_value(), typing });
    }));
    let add_note = Callback::new(move |text: String| {
        let client_id = ClientMessageId(tandem_browser::client_id());
        live.send(&AgentFrame::Note { conversation_id: id.get_value(), client_id, text })
    });
    // Drawn while it is not selected too, hidden: its draft stays as the agent moves between chats.
    let hidden = move || live.selected.with(|selected| selected.as_ref() != Some(&id.get_value()));
    view! {
        <article class="chat" data-testid="chat" data-conversation=move || id.get_value().0 hidden=hidden>
            <div class="chat-centre">
                <ChatLog id chat live/>
                <Show when=ended>
                    <ChatEnded id chat live/>
                </Show>
                <Show when=move || !ended()>
                    <crate::suggest::SuggestedReply chat suggester=live.suggester draft/>
                    <ChatComposer id chat live draft/>
                    <crate::files::SendFiles id live/>
                    <crate::canned::CannedPicker chat canned=live.canned draft/>
                    <ChatActions id live/>
                </Show>
            </div>
            <aside class="chat-detail" aria-label="The customer and the handoff">
                {move || chat.get().map(|chat| view! { <ChatHeader chat/> })}
                <crate::notes::Notes chat open=Signal::derive(move || !ended()) add=add_note/>
            </aside>
        </article>
    }
}

/// Who the customer is, the page they asked from, and what the bot heard before the handoff.
#[component]
fn ChatHeader(chat: ConversationDetail) -> impl IntoView {
    view! {
        <header class="chat-header">
            <p class="customer" data-testid="customer">{customer_text(&chat.customer)}</p>
            <p class="page" data-testid="page-url">"Page: " {chat.page_url}</p>
            <p class="meta" data-testid="chat-meta">
                {format!("Locale {} · {}{}", chat.locale, reason_text(chat.reason), escalation_text(chat.escalation))}
            </p>
        </header>
        {chat.page_context.map(|json| view! {
            <section class="page-context" aria-labelledby="page-context-title" data-testid="page-context">
                <h3 id="page-context-title">"From the page (not verified)"</h3>
                // Text, never markup: what any script on the customer's page could have written.
                <pre>{pretty_json(&json)}</pre>
            </section>
        })}
        <section class="transcript" aria-label="Before the handoff">
            <h3>"Before the handoff"</h3>
            {chat.transcript.into_iter().map(|line| view! {
                <p class="transcript-line" data-testid="transcript-line">{transcript_line(line)}</p>
            }).collect_view()}
        </section>
    }
}

/// The conversation with the customer, what the agent is still sending, and whether the
/// customer is typing.
#[component]
fn ChatLog(
    id: StoredValue<ConversationId>,
    chat: Memo<Option<ConversationDetail>>,
    live: Live,
) -> impl IntoView {
    let messages = move || chat.with(|chat| chat.as_ref().map(|c| c.messages.clone()).unwrap_or_default());
    view! {
        <div class="chat-log" role="log" aria-live="polite" data-testid="chat-messages">
            <MessagesThenPending
                messages
                pending=move || live.outbox.waiting_for(&id.get_value())
                show_message=move |message| view! { <ChatLine message chat=id.get_value()/> }
                show_pending=|pending| view! { <PendingLine pending/> }
            />
            <Show when=move || seen_by_the_customer(id, chat, live)>
                <p class="seen" data-testid="seen">"Seen"</p>
            </Show>
            <Show when=move || live.typing.with(|typing| typing.contains(&id.get_value()))>
                <p class="typing" data-testid="customer-typing">"The customer is typing…"</p>
            </Show>
        </div>
    }
}

/// The chat ends with the agent's message, the customer has read it, and nothing of the
/// agent's is still on its way.
fn seen_by_the_customer(
    id: StoredValue<ConversationId>,
    chat: Memo<Option<ConversationDetail>>,
    live: Live,
) -> bool {
    let id = id.get_value();
    let read = live.customer_read.with(|read| read.iter().find(|(c, _)| *c == id).map_or(0, |r| r.1));
    let last =
        chat.with(|chat| chat.as_ref().and_then(|c| c.messages.last().map(|m| (m.seq, m.author.clone()))));
    matches!(last, Some((seq, Author::Agent { .. })) if seq <= read)
        && live.outbox.waiting_for(&id).is_empty()
}

/// The chat ended: the customer's rating once it comes, and closing the chat.
#[component]
fn ChatEnded(
    id: StoredValue<ConversationId>,
    chat: Memo<Option<ConversationDetail>>,
    live: Live,
) -> impl IntoView {
    view! {
        <p class="ended" role="status" data-testid="chat-ended">
            "Conversation ended. "
            {move || match chat.with(|chat| chat.as_ref().and_then(|c| c.rating.clone())) {
                Some(rating) => rating_text(&rating),
                None => "No rating yet.".to_owned(),
            }}
        </p>
        <button data-testid="close-chat" on:click=move |_| live.remove_chat(&id.get_value())>"Close"</button>
    }
}

/// The agent's reply box: Enter sends, and the customer sees when the agent is typing.
#[component]
fn ChatComposer(
    id: StoredValue<ConversationId>,
    chat: Memo<Option<ConversationDetail>>,
    live: Live,
    draft: Draft,
) -> impl IntoView {
    let submit = move || {
        // "/refund" and Enter: the canned response, in the composer to check and send.
        if chat.with_untracked(|chat| live.canned.complete(draft, chat.as_ref())) {
            return;
        }
        let sent: Result<(), &str> = draft.submit(|text| {
            validate_text(&text)?;
            live.outbox.send(id.get_value(), text, |pending| {
                live.send(&AgentFrame::Send {
                    conversation_id: pending.to,
                    client_id: pending.client_id,
                    text: pending.text,
                });
            });
            Ok(())
        });
        if let Err(problem) = sent {
            live.notice.set(Some(problem.to_owned()));
        }
    };
    view! {
        <form
            class="chat-composer"
            on:submit=move |event: web_sys::SubmitEvent| {
                event.prevent_default();
                submit();
            }
        >
            <textarea
                aria-label="Reply"
                data-testid="chat-input"
                {..draft.textarea(submit)}
            ></textarea>
            <button type="submit" data-testid="chat-send">"Send"</button>
        </form>
    }
}

/// What the agent can do with a chat under way: give it back to the queue or the bot, transfer
/// it to a colleague, or end it.
#[component]
fn ChatActions(id: StoredValue<ConversationId>, live: Live) -> impl IntoView {
    // Off the desk once the server has the frame.
    let hand_over = move |frame: AgentFrame| {
        if live.send(&frame) {
            live.remove_chat(&id.get_value());
        }
    };
    view! {
        <div class="chat-actions">
            <button data-testid="requeue" on:click=move |_| {
                hand_over(AgentFrame::Requeue { conversation_id: id.get_value() });
            }>"Put back in queue"</button>
            <button data-testid="to-bot" on:click=move |_| {
                hand_over(AgentFrame::HandToBot { conversation_id: id.get_value() });
            }>"Back to the bot"</button>
            <Transfer id=id.get_value() live/>
            <button data-testid="end" on:click=move |_| {
                live.send(&AgentFrame::End { conversation_id: id.get_value() });
            }>"End conversation"</button>
        </div>
    }
}

/// Hands the chat to a colleague who is online with room: they are offered it first.
#[component]
fn Transfer(id: ConversationId, live: Live) -> impl IntoView {
    let colleagues = RwSignal::new(None::<Vec<TeamMember>>);
    let id = StoredValue::new(id);
    let open = move |_| {
        spawn_local(async move {
            match fetch_json::<(), Vec<TeamMember>>("GET", "/v1/agent/team", None).await {
                Ok(team) => colleagues.set(Some(
                    team.into_iter()
                        .filter(|m| {
                            m.id != live.me
                                && m.active
                                && m.connected
                                && m.presence == Presence::Online
                                && m.chats < m.capacity
                        })
                        .collect(),
                )),
                Err(_) => live.notice.set(Some("Could not load your colleagues; try again.".into())),
            }
        });
    };
    view! {
        <button data-testid="transfer" aria-expanded=move || colleagues.with(Option::is_some).to_string() on:click=open>
            "Transfer…"
        </button>
        {move || colleagues.get().map(|list| view! {
            <div class="transfer" role="group" aria-label="Transfer to" data-testid="transfer-list">
                {if list.is_empty() { Some(view! { <p>"Nobody else is online with room right now."</p> }) } else { None }}
                {list.into_iter().map(|member| {
                    let to_agent = member.id;
                    view! {
                        <button data-testid="transfer-to" on:click=move |_| {
                            if live.send(&AgentFrame::Transfer { conversation_id: id.get_value(), to_agent }) {
                                live.remove_chat(&id.get_value());
                            }
                        }>{member.display_name}</button>
                    }
                }).collect_view()}
                <button on:click=move |_| colleagues.set(None)>"Cancel"</button>
            </div>
        })}
    }
}

/// JSON text indented for reading (as it came, should the browser not read it).
fn pretty_json(json: &str) -> String {
    js_sys::JSON::parse(json)
        .and_then(|value| {
            js_sys::JSON::stringify_with_replacer_and_space(&value, &wasm_bindgen::JsValue::NULL, &2.into())
        })
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| json.to_owned())
}

/// Who the customer is, as far as the agent can trust it.
fn customer_text(customer: &CustomerProfile) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(name) = &customer.name {
        parts.push(name.clone());
    }
    match &customer.email {
        Some(email) if customer.verified && !customer.email_verified => {
            parts.push(format!("{email} (given by the customer, not verified)"));
        }
        Some(email) => parts.push(email.clone()),
        None => {}
    }
    let who = if parts.is_empty() { "Anonymous visitor".to_owned() } else { parts.join(" · ") };
    match (&customer.id, customer.verified) {
        (Some(id), true) => format!("{who} · verified customer {id}"),
        _ if customer.email.is_some() => format!("{who} (given by the customer, not verified)"),
        _ => who,
    }
}

fn rating_text(rating: &Rating) -> String {
    let stars = format!("Rated {} of 5", rating.score);
    match &rating.comment {
        Some(comment) if !comment.trim().is_empty() => format!("{stars}: “{comment}”"),
        _ => format!("{stars}."),
    }
}

#[component]
fn PendingLine(pending: Pending<ConversationId>) -> impl IntoView {
    view! {
        <p class="line from-agent pending" data-testid="pending-message">
            <strong>"You · sending: "</strong>{pending.text}
        </p>
    }
}

#[component]
fn ChatLine(message: ChatMessage, chat: ConversationId) -> impl IntoView {
    let (class, who) = match &message.author {
        Author::Customer => ("line from-customer", "Customer".to_owned()),
        Author::Agent { name } => ("line from-agent", name.clone()),
    };
    view! {
        <p class=class data-testid="message" data-seq=message.seq.to_string()>
            <strong>{who} ": "</strong>
            {match message.attachment {
                Some(file) => crate::files::file_link(&chat, &file).into_any(),
                // Text, never markup.
                None => message.text.into_any(),
            }}
        </p>
    }
}
