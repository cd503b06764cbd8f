//! The signed-in agent's desk: presence, the queue and the open chats, kept live.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::{Connection, LiveSocket, client_id, fetch_json, from_json, to_json};
use tandem_protocol::{
    AgentEvent, AgentFrame, AgentProfile, Author, ChatMessage, ClientMessageId, ConversationDetail,
    ConversationId, ConversationStatus, CustomerProfile, EscalationReason, HandoffReason, OfferEnd, Presence,
    QueueEntry, Rating, TeamMember, TranscriptEntry, TranscriptSpeaker, validate_text,
};

/// A customer offered to this agent alone, until the local deadline.
#[derive(Debug, Clone, PartialEq)]
struct Offer {
    entry: QueueEntry,
    /// Local clock: the server's timeout counted from when the offer arrived, so clocks that
    /// disagree do not matter.
    deadline_ms: f64,
}

/// A message the agent sent that the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq)]
struct Pending {
    conversation_id: ConversationId,
    client_id: ClientMessageId,
    text: String,
}

/// Live state of the desk, shared by its components (every field is `Copy`).
#[derive(Clone, Copy)]
struct Live {
    /// The signed-in agent's id.
    me: i64,
    presence: RwSignal<Presence>,
    queue: RwSignal<Vec<QueueEntry>>,
    chats: RwSignal<Vec<ConversationDetail>>,
    typing: RwSignal<Vec<ConversationId>>,
    outbox: RwSignal<Vec<Pending>>,
    connection: RwSignal<Connection>,
    /// The server has welcomed this session: the agent counts as online for customers.
    ready: RwSignal<bool>,
    notice: RwSignal<Option<String>>,
    offer: RwSignal<Option<Offer>>,
    /// Milliseconds since the epoch, refreshed so waiting times move.
    now_ms: RwSignal<f64>,
    socket: StoredValue<Option<LiveSocket>, LocalStorage>,
}

impl Live {
    fn send(self, frame: &AgentFrame) -> bool {
        let Some(json) = to_json(frame) else { return false };
        self.socket.with_value(|socket| socket.as_ref().is_some_and(|s| s.send(&json)))
    }

    fn on_event(self, event: AgentEvent) {
        match event {
            AgentEvent::Welcome { presence, chats, .. } => {
                self.ready.set(true);
                self.presence.set(presence);
                self.chats.set(chats);
                // After a reconnect: what was not acknowledged goes again (stored once).
                for pending in self.outbox.get_untracked() {
                    self.send(&AgentFrame::Send {
                        conversation_id: pending.conversation_id,
                        client_id: pending.client_id,
                        text: pending.text,
                    });
                }
            }
            AgentEvent::Queue { entries } => self.queue.set(entries),
            AgentEvent::Accepted { conversation } => {
                self.offer.update(|offer| {
                    if offer.as_ref().is_some_and(|o| o.entry.conversation_id == conversation.conversation_id)
                    {
                        *offer = None;
                    }
                });
                self.chats.update(|chats| {
                    chats.retain(|chat| chat.conversation_id != conversation.conversation_id);
                    chats.push(conversation);
                });
            }
            AgentEvent::Offer { offer, timeout_secs, .. } => {
                let deadline_ms = now() + f64::from(timeout_secs) * 1000.0;
                self.now_ms.set(now());
                self.offer.set(Some(Offer { entry: offer, deadline_ms }));
            }
            AgentEvent::OfferEnded { conversation_id, reason } => {
                let was_shown = self.offer.with_untracked(|offer| {
                    offer.as_ref().is_some_and(|o| o.entry.conversation_id == conversation_id)
                });
                if was_shown {
                    self.offer.set(None);
                    if reason == OfferEnd::Expired {
                        self.notice.set(Some("The offer expired and went to the next agent.".into()));
                    }
                }
            }
            AgentEvent::SetAway { missed_offers } => {
                self.notice.set(Some(format!(
                    "You let {missed_offers} offers in a row expire, so you are now Away. Switch to Online to be offered customers again."
                )));
            }
            AgentEvent::Message { conversation_id, message } => {
                self.acknowledged(&message.client_id);
                if message.author == Author::Customer {
                    self.typing.update(|typing| typing.retain(|id| id != &conversation_id));
                }
                self.chats.update(|chats| {
                    if let Some(chat) = chats.iter_mut().find(|chat| chat.conversation_id == conversation_id)
                        && chat.messages.last().is_none_or(|last| last.seq < message.seq)
                    {
                        chat.messages.push(message);
                    }
                });
            }
            AgentEvent::Ack { client_id, .. } => self.acknowledged(&client_id),
            AgentEvent::Typing { conversation_id, typing } => self.typing.update(|list| {
                list.retain(|id| id != &conversation_id);
                if typing {
                    list.push(conversation_id);
                }
            }),
            AgentEvent::Read { .. } => {}
            // The chat stays on the desk, ended, until the agent closes it: the customer's
            // rating may still come.
            AgentEvent::Ended { conversation_id } => {
                self.update_chat(&conversation_id, |chat| chat.status = ConversationStatus::Ended);
                self.outbox.update(|outbox| outbox.retain(|p| p.conversation_id != conversation_id));
                self.typing.update(|typing| typing.retain(|id| id != &conversation_id));
            }
            AgentEvent::Rated { conversation_id, rating } => {
                self.update_chat(&conversation_id, |chat| chat.rating = Some(rating));
            }
            AgentEvent::Presence { presence } => self.presence.set(presence),
            AgentEvent::Error { message, .. } => self.notice.set(Some(message)),
        }
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
    }

    fn acknowledged(self, client_id: &ClientMessageId) {
        self.outbox.update(|outbox| outbox.retain(|pending| &pending.client_id != client_id));
    }
}

fn now() -> f64 {
    js_sys::Date::now()
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
pub fn Desk(profile: AgentProfile, sign_out: Callback<()>) -> impl IntoView {
    let live = Live {
        me: profile.id,
        presence: RwSignal::new(Presence::Online),
        queue: RwSignal::new(Vec::new()),
        chats: RwSignal::new(Vec::new()),
        typing: RwSignal::new(Vec::new()),
        outbox: RwSignal::new(Vec::new()),
        connection: RwSignal::new(Connection::Connecting),
        ready: RwSignal::new(false),
        notice: RwSignal::new(None),
        offer: RwSignal::new(None),
        now_ms: RwSignal::new(now()),
        socket: StoredValue::new_local(None),
    };
    let socket = LiveSocket::connect(
        live_url(),
        |()| {},
        move |text| {
            if let Some(event) = from_json::<AgentEvent>(&text) {
                live.on_event(event);
            }
        },
        move |connection| live.connection.set(connection),
    );
    live.socket.set_value(Some(socket));
    let _clock = set_interval_with_handle(move || live.now_ms.set(now()), std::time::Duration::from_secs(15));
    on_cleanup(move || {
        live.socket.with_value(|socket| {
            if let Some(socket) = socket {
                socket.close();
            }
        });
    });

    let toggle_presence = move |_| {
        let next = match live.presence.get_untracked() {
            Presence::Online => Presence::Away,
            Presence::Away | Presence::Offline => Presence::Online,
        };
        live.send(&AgentFrame::SetPresence { presence: next });
    };

    view! {
        <div class="desk-bar" data-testid="desk-bar" data-ready=move || live.ready.get().to_string()>
            <span data-testid="agent-name">{profile.display_name}</span>
            <button
                class="presence"
                data-testid="presence"
                aria-pressed=move || (live.presence.get() == Presence::Online).to_string()
                on:click=toggle_presence
            >
                {move || match live.presence.get() {
                    Presence::Online => "Online",
                    Presence::Away => "Away",
                    Presence::Offline => "Offline",
                }}
            </button>
            <Show when=move || live.connection.get() == Connection::Reconnecting>
                <span class="banner" role="status" data-testid="reconnecting">"Reconnecting…"</span>
            </Show>
            <button class="sign-out" data-testid="sign-out" on:click=move |_| sign_out.run(())>"Sign out"</button>
        </div>
        {move || live.notice.get().map(|notice| view! {
            <p class="notice" role="alert" data-testid="notice">{notice}</p>
        })}
        // Always in the page, so that screen readers announce an offer the moment it comes.
        <p class="visually-hidden" aria-live="assertive" data-testid="offer-announcement">
            {move || live.offer.with(|offer| offer.as_ref().map(|_| "A customer is offered to you: accept or decline."))}
        </p>
        <main class="desk">
            {move || live.offer.get().map(|offer| view! { <OfferCard offer live/> })}
            <section class="queue" aria-labelledby="queue-title" data-testid="queue">
                <h2 id="queue-title">{move || format!("Waiting ({})", live.queue.with(Vec::len))}</h2>
                <ul>
                    <For each=move || live.queue.get() key=|entry| entry.conversation_id.clone() let:entry>
                        <QueueItem entry live/>
                    </For>
                </ul>
            </section>
            <section class="chats" aria-label="Your chats">
                <For each=move || live.chats.get() key=|chat| chat.conversation_id.clone() let:chat>
                    <Chat id=chat.conversation_id live/>
                </For>
            </section>
            <crate::messages::LeftMessages/>
        </main>
    }
}

/// The end of the bot conversation, as the queue and an offer show it.
#[component]
fn Preview(lines: Vec<TranscriptEntry>) -> impl IntoView {
    view! {
        <ul class="preview">
            {lines.into_iter().map(|line| view! {
                <li>
                    <strong>{match line.from { TranscriptSpeaker::Customer => "Customer: ", TranscriptSpeaker::Bot => "Bot: " }}</strong>
                    {line.text}
                </li>
            }).collect_view()}
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
    on_cleanup(move || {
        if let Some(tick) = tick {
            tick.clear();
        }
    });
    let seconds_left = move || {
        #[allow(clippy::cast_possible_truncation, reason = "whole seconds of a short countdown")]
        let left = ((deadline - live.now_ms.get()) / 1000.0).ceil().max(0.0) as i64;
        left
    };
    let entry = offer.entry;
    view! {
        <section class="offer" role="region" aria-labelledby="offer-title" data-testid="offer">
            <h2 id="offer-title">"A customer for you"</h2>
            <p class="meta">
                {format!("{} · {}{}{}", entry.locale, reason_text(entry.reason), escalation_text(entry.escalation), skill_text(entry.skill.as_deref()))}
            </p>
            <Preview lines=entry.preview/>
            <p class="countdown" aria-live="off" data-testid="offer-countdown">
                {move || format!("{} s to answer", seconds_left())}
            </p>
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
                {format!(" · {} · {}{}{}", entry.locale, reason_text(entry.reason), escalation_text(entry.escalation), skill_text(entry.skill.as_deref()))}
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

#[component]
fn Chat(id: ConversationId, live: Live) -> impl IntoView {
    let chat_id = id.clone();
    let chat = Memo::new(move |_| {
        live.chats.with(|chats| chats.iter().find(|c| c.conversation_id == chat_id).cloned())
    });
    let draft = RwSignal::new(String::new());
    let id = StoredValue::new(id);
    let submit = move || {
        let text = draft.get_untracked();
        if let Err(problem) = validate_text(&text) {
            live.notice.set(Some(problem.to_owned()));
            return;
        }
        let pending =
            Pending { conversation_id: id.get_value(), client_id: ClientMessageId(client_id()), text };
        live.outbox.update(|outbox| outbox.push(pending.clone()));
        live.send(&AgentFrame::Send {
            conversation_id: pending.conversation_id,
            client_id: pending.client_id,
            text: pending.text,
        });
        live.send(&AgentFrame::Typing { conversation_id: id.get_value(), typing: false });
        draft.set(String::new());
    };
    let on_input = move |event: web_sys::Event| {
        let was_empty = draft.with_untracked(String::is_empty);
        let value = event_target_value(&event);
        let is_empty = value.is_empty();
        draft.set(value);
        if was_empty != is_empty {
            live.send(&AgentFrame::Typing { conversation_id: id.get_value(), typing: !is_empty });
        }
    };
    let messages = move || chat.with(|chat| chat.as_ref().map(|c| c.messages.clone()).unwrap_or_default());
    let ended =
        move || chat.with(|chat| chat.as_ref().is_some_and(|c| c.status == ConversationStatus::Ended));
    let pending = move || {
        live.outbox.with(|outbox| {
            outbox.iter().filter(|p| p.conversation_id == id.get_value()).cloned().collect::<Vec<_>>()
        })
    };

    view! {
        <article class="chat" data-testid="chat" data-conversation=move || id.get_value().0>
            {move || chat.get().map(|chat| view! {
                <header class="chat-header">
                    <p class="customer" data-testid="customer">{customer_text(&chat.customer)}</p>
                    <p class="page" data-testid="page-url">"Page: " {chat.page_url.clone()}</p>
                    <p class="meta" data-testid="chat-meta">
                        {format!("Locale {} · {}{}", chat.locale, reason_text(chat.reason), escalation_text(chat.escalation))}
                    </p>
                </header>
                <section class="transcript" aria-label="Before the handoff">
                    <h3>"Before the handoff"</h3>
                    {chat.transcript.iter().map(|line| view! {
                        <p class="transcript-line" data-testid="transcript-line">
                            <strong>{match line.from { TranscriptSpeaker::Customer => "Customer: ", TranscriptSpeaker::Bot => "Bot: " }}</strong>
                            {line.text.clone()}
                        </p>
                    }).collect_view()}
                </section>
            })}
            <div class="chat-log" role="log" aria-live="polite" data-testid="chat-messages">
                <For each=messages key=|message| message.seq let:message>
                    <ChatLine message/>
                </For>
                <For each=pending key=|p| p.client_id.0.clone() let:pending>
                    <p class="line from-agent pending" data-testid="pending-message">
                        <strong>"You · sending: "</strong>{pending.text}
                    </p>
                </For>
                <Show when=move || live.typing.with(|typing| typing.contains(&id.get_value()))>
                    <p class="typing" data-testid="customer-typing">"The customer is typing…"</p>
                </Show>
            </div>
            <Show when=ended>
                <p class="ended" role="status" data-testid="chat-ended">
                    "Conversation ended. "
                    {move || match chat.with(|chat| chat.as_ref().and_then(|c| c.rating.clone())) {
                        Some(rating) => rating_text(&rating),
                        None => "No rating yet.".to_owned(),
                    }}
                </p>
                <button data-testid="close-chat" on:click=move |_| live.remove_chat(&id.get_value())>"Close"</button>
            </Show>
            <Show when=move || !ended()>
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
                    rows="2"
                    maxlength=tandem_protocol::MAX_MESSAGE_CHARS.to_string()
                    prop:value=move || draft.get()
                    on:input=on_input
                    on:keydown=move |event: web_sys::KeyboardEvent| {
                        if event.key() == "Enter" && !event.shift_key() {
                            event.prevent_default();
                            submit();
                        }
                    }
                ></textarea>
                <button type="submit" data-testid="chat-send">"Send"</button>
            </form>
            <div class="chat-actions">
                <button data-testid="requeue" on:click=move |_| {
                    if live.send(&AgentFrame::Requeue { conversation_id: id.get_value() }) {
                        live.remove_chat(&id.get_value());
                    }
                }>"Put back in queue"</button>
                <button data-testid="to-bot" on:click=move |_| {
                    if live.send(&AgentFrame::HandToBot { conversation_id: id.get_value() }) {
                        live.remove_chat(&id.get_value());
                    }
                }>"Back to the bot"</button>
                <Transfer id=id.get_value() live/>
                <button data-testid="end" on:click=move |_| {
                    live.send(&AgentFrame::End { conversation_id: id.get_value() });
                }>"End conversation"</button>
            </div>
            </Show>
        </article>
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

/// Who the customer is, as far as the agent can trust it.
fn customer_text(customer: &CustomerProfile) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(name) = &customer.name {
        parts.push(name);
    }
    if let Some(email) = &customer.email {
        parts.push(email);
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
fn ChatLine(message: ChatMessage) -> impl IntoView {
    let (class, who) = match &message.author {
        Author::Customer => ("line from-customer", "Customer".to_owned()),
        Author::Agent { name } => ("line from-agent", name.clone()),
    };
    view! {
        <p class=class data-testid="message" data-seq=message.seq.to_string()>
            <strong>{who} ": "</strong>
            // Text, never markup.
            {message.text}
        </p>
    }
}
