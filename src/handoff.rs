//! The live handoff to a person, from the customer's side: start, wait, chat, end — and resume
//! after a reload, a network drop or a server restart without losing or doubling a message.

use crate::i18n::I18n;
use crate::live::{self, Task};
use crate::page_api::{PageEvent, PageEvents};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use tandem_browser::{
    Channel, Connection, FetchError, NotSent, Outbox, Pending, Reading, after_ms, append_new, fetch_json,
    from_json, json_strings, last_held, local_storage, session_storage, to_json, when_visible,
};
use tandem_protocol::{
    AskEmail, Availability, mask_card_numbers, mask_card_numbers_in_transcript, validate_email,
};
use tandem_protocol::{
    Author, ChatMessage, ClientMessageId, ConversationId, ConversationStarted, ConversationStatus,
    CustomerEvent, CustomerFrame, ErrorCode, EscalationReason, HandoffReason, Identity, LeaveMessage,
    MerchantId, PROTOCOL_VERSION, QueueStatus, Rating, Seq, StartConversation, TranscriptEntry,
    validate_text,
};

/// Where the handoff stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// No person asked for (the bot conversation).
    Idle,
    Starting,
    Waiting(Option<QueueStatus>),
    Connected {
        agent: String,
    },
    Ended,
    /// The handoff could not start; the panel offers another way to reach a person.
    Failed(Failure),
    /// The merchant asks for an email before the handoff (`required`: no skipping).
    Details {
        required: bool,
    },
    /// Nobody can answer now: the customer can leave a message, answered by email.
    Offline {
        reply_within_hours: u32,
        why: Unanswered,
    },
    /// The message was left; a person replies by email.
    MessageLeft {
        email: String,
        reply_within_hours: u32,
    },
}

/// Why nobody can answer live, as the leave-a-message form tells the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    NobodyOnline,
    /// Outside the business hours (these).
    Closed(String),
    /// Every place in the queue is taken (`too_busy`).
    Busy,
}

/// Why asking for a person failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Unreachable,
    RateLimited,
    /// The stored conversation is gone or its token no longer valid.
    Gone,
}

impl Failure {
    /// Its catalogue key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Unreachable => "failed.unreachable",
            Self::RateLimited => "failed.busy",
            Self::Gone => "failed.gone",
        }
    }
}

impl Phase {
    /// A conversation with a person is under way (the composer talks to them).
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Waiting(_) | Self::Connected { .. })
    }

    /// Asking for a person is in progress (no second request starts).
    pub fn is_busy(&self) -> bool {
        self.is_live() || matches!(self, Self::Starting | Self::Details { .. })
    }

    /// The person the customer is talking to, once one has joined.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Self::Connected { agent } => Some(agent),
            _ => None,
        }
    }
}

/// A request for a person waiting for the customer's details.
#[derive(Debug, Clone)]
struct Request {
    transcript: Vec<TranscriptEntry>,
    reason: HandoffReason,
    escalation: Option<EscalationReason>,
}

/// What survives a reload: kept in localStorage once the customer has asked for a person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    conversation_id: ConversationId,
    token: String,
}

#[derive(Clone, Copy)]
pub struct Handoff {
    pub phase: RwSignal<Phase>,
    /// Stored messages, in sequence order.
    pub messages: RwSignal<Vec<ChatMessage>>,
    /// Sent to the person and not yet acknowledged (one conversation: no address).
    pub outbox: Outbox<()>,
    pub agent_typing: RwSignal<bool>,
    pub connection: RwSignal<Connection>,
    /// A problem worth telling the customer (e.g. a refused message).
    pub notice: RwSignal<Option<String>>,
    saved: StoredValue<Option<Saved>>,
    socket: Channel,
    /// The server and the merchant, fixed for the widget's life (which is the page's): plain
    /// shared data rather than two more stored values, whose per-type code the download pays.
    api: &'static Api,
    i18n: I18n,
    events: StoredValue<PageEvents, LocalStorage>,
    identity: RwSignal<Option<Identity>>,
    /// The merchant's setting, from its widget configuration.
    pub ask_email: RwSignal<AskEmail>,
    request: StoredValue<Option<Request>>,
    skill: StoredValue<Option<String>>,
    /// The conversation just ended with a person, which the customer may rate.
    pub rateable: RwSignal<Option<Saved>>,
    pub rated: RwSignal<bool>,
    /// `rate_limited` answers in a row, for the wait before sending again.
    backoff: StoredValue<u32>,
    /// A resend after `rate_limited` is waiting for its time.
    resend_due: StoredValue<bool>,
    /// How far the person has read ("Seen" under the customer's last message).
    pub agent_read: RwSignal<Seq>,
    /// How far the customer has read, as told to the person.
    reading: Reading<()>,
    /// The panel is open: what arrives is on screen (when the tab is visible).
    on_screen: StoredValue<bool>,
    /// The file being sent, and how much of it has gone (0 to 100).
    pub uploading: RwSignal<Option<(String, u32)>>,
    /// What `Tandem.setContext` says of the page.
    context: RwSignal<Option<String>>,
    /// The live module's views, once it is here (see [`live::Drawn`]).
    live: RwSignal<Option<live::Arrived>>,
    /// The email the customer gave before the handoff, where the transcript goes by default.
    given_email: StoredValue<Option<String>>,
}

struct Api {
    origin: String,
    merchant: MerchantId,
}

fn storage_key(merchant: &MerchantId) -> String {
    format!("tandem.conversation.{merchant}")
}

/// Where the tab keeps what was sent and not yet acknowledged (`sessionStorage`), so that a
/// message sent just before the next checkout page loads is sent again from there.
fn outbox_key(merchant: &MerchantId) -> String {
    format!("tandem.outbox.{merchant}")
}

/// Longest wait before sending again after `rate_limited`.
const MOST_BACKOFF_MS: i32 = 30_000;

impl Handoff {
    /// What the answering agent should know (the page's `skill` option), sent with each handoff.
    pub fn set_skill(self, skill: Option<String>) {
        self.skill.set_value(skill);
    }

    /// What only a conversation with a person needs, installed as the live chat's code arrives
    /// (there is no conversation before it): the page's context followed, and the beacon when
    /// the page goes while the customer waits.
    fn live_started(self) {
        self.follow_context();
        self.leave_on_pagehide();
    }

    /// What the page says of itself (`Tandem.setContext`) goes to the conversation as it starts,
    /// and again whenever the page changes it while the conversation goes on.
    fn follow_context(self) {
        Effect::new(move |_| {
            if self.context.with(Option::is_some) {
                self.send_context();
            }
        });
    }

    fn send_context(self) {
        let json = self.context.get_untracked();
        let (Some(saved), Some(json)) = (self.saved.get_value(), json) else { return };
        let url = format!("{}/v1/conversations/{}/context", self.api.origin, saved.conversation_id);
        spawn_local(async move {
            if tandem_browser::post_json_text(&url, &saved.token, json).await.is_err() {
                web_sys::console::warn_1(&"Tandem.setContext: the server did not keep the context".into());
            }
        });
    }

    /// A conversation with a person is under way in this browser (resumed after a reload).
    pub fn has_saved_conversation(self) -> bool {
        self.saved.with_value(Option::is_some)
    }

    /// Resumes the conversation this browser already has with the merchant, if any.
    // Kept out of the widget's start, which inlines it otherwise: smaller as served (measured).
    #[inline(never)]
    pub fn new(
        api_origin: String,
        merchant: MerchantId,
        i18n: I18n,
        events: PageEvents,
        identity: RwSignal<Option<Identity>>,
        context: RwSignal<Option<String>>,
    ) -> Self {
        let saved = local_storage()
            .and_then(|storage| storage.get_item(&storage_key(&merchant)).ok().flatten())
            .and_then(|json| from_json::<Saved>(&json));
        let resuming = saved.is_some();
        let handoff = Self {
            phase: RwSignal::new(if resuming { Phase::Waiting(None) } else { Phase::Idle }),
            messages: RwSignal::new(Vec::new()),
            outbox: Outbox::new(),
            agent_typing: RwSignal::new(false),
            connection: RwSignal::new(Connection::Closed),
            notice: RwSignal::new(None),
            uploading: RwSignal::new(None),
            context,
            live: RwSignal::new(live::at_start()),
            given_email: StoredValue::new(None),
            saved: StoredValue::new(saved),
            socket: Channel::new(),
            api: Box::leak(Box::new(Api { origin: api_origin, merchant })),
            i18n,
            events: StoredValue::new_local(events),
            identity,
            ask_email: RwSignal::new(AskEmail::Off),
            request: StoredValue::new(None),
            skill: StoredValue::new(None),
            rateable: RwSignal::new(None),
            rated: RwSignal::new(false),
            backoff: StoredValue::new(0),
            resend_due: StoredValue::new(false),
            agent_read: RwSignal::new(0),
            reading: Reading::new(),
            on_screen: StoredValue::new(false),
        };
        when_visible(move || handoff.see());
        #[cfg(not(feature = "lazy"))]
        handoff.live_started();
        if resuming {
            handoff.take_back_outbox();
            handoff.connect();
        }
        handoff.keep_outbox();
        handoff
    }

    /// What the previous page of this tab sent and never had acknowledged.
    fn take_back_outbox(self) {
        let key = outbox_key(&self.api.merchant);
        let held = session_storage().and_then(|storage| storage.get_item(&key).ok().flatten());
        // Client id, text, client id, text…: a flat list of strings costs the wasm no new
        // serde code.
        if let Some(held) = held.and_then(|json| from_json::<Vec<String>>(&json)) {
            let held = held.chunks_exact(2).map(|pair| Pending {
                to: (),
                client_id: ClientMessageId(pair[0].clone()),
                text: pair[1].clone(),
                not_sent: false,
            });
            self.outbox.restore(held.collect());
        }
    }

    /// Mirrors the outbox into `sessionStorage` while a conversation is under way (nothing is
    /// stored before the customer asked for a person), and clears it once it is empty.
    fn keep_outbox(self) {
        Effect::new(move |_| {
            let held: Vec<String> = self
                .outbox
                .held()
                .into_iter()
                .filter(|pending| !pending.not_sent)
                .flat_map(|pending| [pending.client_id.0, pending.text])
                .collect();
            let Some(storage) = session_storage() else { return };
            let key = outbox_key(&self.api.merchant);
            match json_strings(&held) {
                Some(json) if !held.is_empty() && self.saved.with_value(Option::is_some) => {
                    let _ = storage.set_item(&key, &json);
                }
                _ => {
                    let _ = storage.remove_item(&key);
                }
            }
        });
    }

    /// After `rate_limited`: the outbox goes again after a wait that doubles each time
    /// (1 s, 2 s … 30 s), and starts again from 1 s once a message is acknowledged. One wait
    /// at a time: the refusals of one resent outbox (one per message) start one more, not one
    /// each, or each would send the whole outbox again.
    fn resend_later(self) {
        if self.resend_due.get_value() {
            return;
        }
        self.resend_due.set_value(true);
        let tries = self.backoff.get_value();
        self.backoff.set_value(tries.saturating_add(1));
        let wait = (1000_i32 << tries.min(5)).min(MOST_BACKOFF_MS);
        after_ms(wait, move || {
            self.resend_due.set_value(false);
            self.outbox.resend(|pending| {
                self.send_frame(&CustomerFrame::Send { client_id: pending.client_id, text: pending.text });
            });
        });
    }

    /// The panel opened (`true`) or closed: while it is open, what arrives is read.
    pub fn on_screen(self, shown: bool) {
        self.on_screen.set_value(shown);
        self.see();
    }

    /// The customer has the conversation in front of them: the person hears how far it was
    /// read (see [`Reading`]).
    pub fn see(self) {
        if !self.on_screen.get_value() {
            return;
        }
        self.reading.seen(
            move || {
                self.messages
                    .with_untracked(|messages| messages.last().map(|m| ((), m.seq)).into_iter().collect())
            },
            move |_, seq| self.on_screen.get_value() && self.send_frame(&CustomerFrame::Read { seq }),
        );
    }

    /// When the page goes (closed, reloaded, or left for the next page) while the customer
    /// waits, a beacon says so: a chat whose customer does not come back within the merchant's
    /// time is then abandoned rather than offered to agents (the next page reconnects well
    /// within it). The token rides in the body, never the URL.
    fn leave_on_pagehide(self) {
        let Some(window) = web_sys::window() else { return };
        let goodbye = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            let Some(saved) = self.saved.get_value() else { return };
            if !matches!(self.phase.get_untracked(), Phase::Waiting(_)) {
                return;
            }
            let url = format!("{}/v1/conversations/{}/leave", self.api.origin, saved.conversation_id);
            // The token is hex: no escaping needed.
            let body = format!(r#"{{"token":"{}"}}"#, saved.token);
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().send_beacon_with_opt_str(&url, Some(&body));
            }
        });
        let _ = window.add_event_listener_with_callback(
            "pagehide",
            wasm_bindgen::JsCast::unchecked_ref(goodbye.as_ref()),
        );
        // One listener, for as long as the page lives.
        goodbye.forget();
    }

    /// Asks for a person, carrying what was said so far: first whether anyone can answer
    /// (else the customer may leave a message), then the details the merchant asks for, then
    /// the queue.
    pub fn start(
        self,
        mut transcript: Vec<TranscriptEntry>,
        reason: HandoffReason,
        escalation: Option<EscalationReason>,
    ) {
        if self.phase.get_untracked().is_busy() {
            return;
        }
        self.phase.set(Phase::Starting);
        self.rateable.set(None);
        // Masked here, once, so that the handoff and a message left instead carry no card number.
        if mask_card_numbers_in_transcript(&mut transcript) {
            self.tell_card_masked();
        }
        self.request.set_value(Some(Request { transcript, reason, escalation }));
        live::run(self, Task::Availability);
    }

    /// Whether anyone can answer now, which decides what follows the request (see [`start`]).
    ///
    /// [`start`]: Self::start
    pub(crate) fn check_availability(self) {
        let url = format!("{}/v1/merchants/{}/availability", self.api.origin, self.api.merchant);
        spawn_local(async move {
            // If availability cannot be read, try the queue: the server decides.
            let availability = fetch_json::<(), Availability>("GET", &url, None).await.ok();
            match availability {
                Some(Availability { open: false, business_hours, reply_within_hours, .. }) => {
                    let why = business_hours.map_or(Unanswered::NobodyOnline, Unanswered::Closed);
                    self.phase.set(Phase::Offline { reply_within_hours, why });
                }
                Some(Availability { agents_online: false, reply_within_hours, .. }) => {
                    self.phase.set(Phase::Offline { reply_within_hours, why: Unanswered::NobodyOnline });
                }
                _ => match self.ask_email.get_untracked() {
                    AskEmail::Off => self.join_queue_now(None),
                    AskEmail::Optional => self.phase.set(Phase::Details { required: false }),
                    AskEmail::Required => self.phase.set(Phase::Details { required: true }),
                },
            }
        });
    }

    /// The customer gave (or skipped) the details asked before the handoff.
    pub fn give_details(self, email: Option<String>) -> Result<(), &'static str> {
        let required = matches!(self.phase.get_untracked(), Phase::Details { required: true });
        match &email {
            Some(email) => validate_email(email).map_err(|_| "details.email-invalid")?,
            None if required => return Err("details.email-required"),
            None => {}
        }
        self.phase.set(Phase::Starting);
        self.join_queue(email);
        Ok(())
    }

    /// Leaves a message for the merchant's agents when nobody is online.
    pub fn leave_message(self, email: String, text: String) -> Result<(), &'static str> {
        validate_email(&email).map_err(|_| "details.email-invalid")?;
        validate_text(&text).map_err(|_| crate::text_problem(&text))?;
        if matches!(self.phase.get_untracked(), Phase::Offline { .. }) {
            live::run(self, Task::LeaveMessage { email, text });
        }
        Ok(())
    }

    pub(crate) fn leave_message_now(self, email: String, text: String) {
        let Phase::Offline { reply_within_hours, .. } = self.phase.get_untracked() else { return };
        let transcript = self.request.get_value().map(|r| r.transcript).unwrap_or_default();
        let message = LeaveMessage {
            email: email.clone(),
            text: self.without_card_numbers(text),
            locale: self.i18n.locale_untracked().tag().to_owned(),
            page_url: crate::frame::page_url(),
            transcript,
        };
        let url = format!("{}/v1/merchants/{}/messages", self.api.origin, self.api.merchant);
        self.phase.set(Phase::Starting);
        spawn_local(async move {
            match fetch_json::<_, serde::de::IgnoredAny>("POST", &url, Some(&message)).await {
                Ok(_) => self.phase.set(Phase::MessageLeft { email, reply_within_hours }),
                Err(FetchError::Status(429, _)) => self.phase.set(Phase::Failed(Failure::RateLimited)),
                Err(_) => self.phase.set(Phase::Failed(Failure::Unreachable)),
            }
        });
    }

    /// The customer rates the conversation that just ended.
    pub fn rate(self, rating: Rating) {
        live::run(self, Task::Rate(rating));
    }

    pub(crate) fn rate_now(self, mut rating: Rating) {
        let Some(saved) = self.rateable.get_untracked() else { return };
        rating.comment = rating.comment.map(|comment| self.without_card_numbers(comment));
        let url = format!("{}/v1/conversations/{}/rating", self.api.origin, saved.conversation_id);
        self.rated.set(true);
        spawn_local(async move {
            let _ =
                tandem_browser::fetch_json_with_bearer::<_, ()>("POST", &url, &saved.token, Some(&rating))
                    .await;
        });
    }

    /// Where a transcript goes unless the customer types another address: the one the page
    /// signed, or the one they gave before the handoff (as the server's profile has it).
    pub fn transcript_address(self) -> String {
        let signed = self.identity.with_untracked(|identity| identity.as_ref().and_then(|i| i.email.clone()));
        signed.or_else(|| self.given_email.get_value()).unwrap_or_default()
    }

    /// Asks for the transcript of the conversation that just ended, sent to `email`; `done`
    /// hears how it went (a catalogue key for a failure).
    pub fn send_transcript(self, email: String, done: impl FnOnce(Result<(), &'static str>) + 'static) {
        if validate_email(&email).is_err() {
            return done(Err("details.email-invalid"));
        }
        live::run(self, Task::Transcript { email, done: Box::new(done) });
    }

    pub(crate) fn send_transcript_now(self, email: String, done: live::Done) {
        let Some(saved) = self.rateable.get_untracked() else { return done(Err("transcript.failed")) };
        let url = format!("{}/v1/conversations/{}/transcript", self.api.origin, saved.conversation_id);
        // `TranscriptRequest`, written by the browser's JSON rather than a serializer of its own.
        let quoted = js_sys::JSON::stringify(&email.into()).map(String::from).unwrap_or_default();
        let body = format!("{{\"email\":{quoted}}}");
        spawn_local(async move {
            let sent = tandem_browser::post_json_text(&url, &saved.token, body).await;
            done(sent.map_err(|error| match error {
                FetchError::Status(429, _) => "transcript.limit",
                FetchError::Status(400, _) => "details.email-invalid",
                _ => "transcript.failed",
            }));
        });
    }

    fn join_queue(self, email: Option<String>) {
        live::run(self, Task::Join { email });
    }

    pub(crate) fn join_queue_now(self, email: Option<String>) {
        let Some(Request { transcript, reason, escalation }) = self.request.get_value() else { return };
        // A new conversation: its sequence numbers start again, and nothing of it is read yet.
        self.messages.set(Vec::new());
        self.agent_read.set(0);
        self.reading.forget();
        let page_url = crate::frame::page_url();
        let locale = self.i18n.locale_untracked().tag().to_owned();
        let request = StartConversation {
            merchant_id: self.api.merchant.clone(),
            locale,
            page_url,
            transcript,
            reason,
            escalation,
            identity: self.identity.get_untracked(),
            email: email.inspect(|email| self.given_email.set_value(Some(email.clone()))),
            skill: self.skill.get_value(),
        };
        let url = format!("{}/v1/conversations", self.api.origin);
        spawn_local(async move {
            match start_conversation(&url, request).await {
                Ok(started) => self.joined(started),
                Err(FetchError::Status(429, _)) => self.phase.set(Phase::Failed(Failure::RateLimited)),
                // The queue is full: never a dead end, the customer writes instead.
                Err(FetchError::Status(503, _)) => self.offer_message_now(Unanswered::Busy),
                Err(_) => self.phase.set(Phase::Failed(Failure::Unreachable)),
            }
        });
    }

    /// In the queue: kept for a reload, then live.
    fn joined(self, started: ConversationStarted) {
        self.emit(&PageEvent::Handoff { conversation_id: started.conversation_id.to_string() });
        let saved = Saved { conversation_id: started.conversation_id, token: started.customer_token };
        if let (Some(storage), Some(json)) = (local_storage(), to_json(&saved)) {
            let _ = storage.set_item(&storage_key(&self.api.merchant), &json);
        }
        self.saved.set_value(Some(saved));
        self.send_context();
        self.phase.set(Phase::Waiting(Some(started.queue)));
        self.connect_now();
    }

    /// The Tandem server this widget talks to.
    pub fn api_origin(self) -> &'static str {
        &self.api.origin
    }

    fn connect(self) {
        live::run(self, Task::Connect);
    }

    pub(crate) fn connect_now(self) {
        let Some(saved) = self.saved.get_value() else { return };
        let origin = self.api.origin.as_str();
        let ws_origin = origin.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
        let url = format!("{ws_origin}/v1/conversations/{}/live", saved.conversation_id);
        self.socket.connect(
            url,
            move || self.on_open(),
            move |event: CustomerEvent| self.on_event(event),
            move |connection| self.connection.set(connection),
        );
    }

    /// Sends `frame` on the live socket, through the live module (see [`live::Arrived`]);
    /// `false` when there is no socket open (the outbox keeps what matters).
    fn send_frame(self, frame: &CustomerFrame) -> bool {
        self.live.with_untracked(|live| live.is_some_and(|live| (live.send)(self, frame)))
    }

    pub(crate) fn send_now(self, frame: &CustomerFrame) -> bool {
        self.socket.send(frame)
    }

    fn on_open(self) {
        let Some(saved) = self.saved.get_value() else { return };
        // Ask for exactly what this page does not hold yet, naming the last message it holds.
        let (last_seq, last_client_id) = self.messages.with_untracked(|messages| last_held(messages));
        self.send_frame(&CustomerFrame::Hello {
            version: PROTOCOL_VERSION,
            conversation_id: saved.conversation_id,
            token: saved.token,
            last_seq,
            last_client_id,
        });
        self.outbox.resend(|pending| {
            self.send_frame(&CustomerFrame::Send { client_id: pending.client_id, text: pending.text });
        });
    }

    fn on_event(self, event: CustomerEvent) {
        match event {
            CustomerEvent::Welcome { status, agent_name, queue } => {
                self.phase.set(match (status, agent_name) {
                    (ConversationStatus::Waiting, _) => Phase::Waiting(queue),
                    (ConversationStatus::Active, Some(agent)) => {
                        self.had_agent();
                        // They joined before this page's socket was open (or while it was away):
                        // the page hears of it now.
                        self.announce_agent(&agent);
                        Phase::Connected { agent }
                    }
                    (ConversationStatus::Active, None) => {
                        Phase::Connected { agent: self.i18n.locale_untracked().text("human.someone").into() }
                    }
                    (ConversationStatus::Ended, _) => Phase::Ended,
                });
            }
            CustomerEvent::Message { message } => self.on_message(message),
            // The server's copy went back in time (a restored database): its copy wins.
            CustomerEvent::Transcript { messages } => {
                self.messages.set(messages);
                self.see();
            }
            CustomerEvent::Ack { client_id, .. } => {
                self.backoff.set_value(0);
                self.outbox.acknowledged(&client_id);
            }
            CustomerEvent::Queue { queue } => self.phase.set(Phase::Waiting(Some(queue))),
            CustomerEvent::AgentJoined { name } => {
                self.had_agent();
                self.announce_agent(&name);
                self.phase.set(Phase::Connected { agent: name });
            }
            CustomerEvent::AgentLeft { .. } => {
                self.agent_typing.set(false);
                self.phase.set(Phase::Waiting(None));
            }
            CustomerEvent::Typing { typing } => self.agent_typing.set(typing),
            CustomerEvent::Read { seq } => self.agent_read.update(|read| *read = (*read).max(seq)),
            CustomerEvent::Closed => {
                self.emit(&PageEvent::Closed);
                self.finish(Phase::Ended);
            }
            CustomerEvent::BackToBot => self.back_to_bot(),
            CustomerEvent::Error { code: ErrorCode::Unauthorized, .. } => {
                self.finish(Phase::Failed(Failure::Gone));
            }
            CustomerEvent::Error { code: ErrorCode::RateLimited, client_id: Some(_), .. } => {
                self.resend_later()
            }
            // Refused for good: never sent again, and shown as not sent.
            CustomerEvent::Error { code, message, client_id: Some(client_id) }
                if code != ErrorCode::Internal =>
            {
                self.outbox.refused(&client_id);
                self.notice.set(Some(message));
            }
            CustomerEvent::Error { message, .. } => self.notice.set(Some(message)),
        }
    }

    /// A stored message, the customer's own (acknowledging it) or the person's; the page hears
    /// of each one once.
    fn on_message(self, message: ChatMessage) {
        let from = if message.author == Author::Customer { "customer" } else { "agent" };
        if message.author == Author::Customer {
            self.outbox.acknowledged(&message.client_id);
        } else {
            self.agent_typing.set(false);
        }
        let (text, seq) = (message.text.clone(), message.seq);
        if self.messages.try_update(|messages| append_new(messages, message)) == Some(true) {
            self.emit(&PageEvent::Message { from, text, seq });
            self.see();
        }
    }

    /// The person passed the customer back to the bot rather than finishing: not rated.
    fn back_to_bot(self) {
        self.rateable.set(None);
        self.emit(&PageEvent::Closed);
        self.notice.set(Some(self.i18n.locale_untracked().text("human.back-to-bot").into()));
        self.finish(Phase::Idle);
    }

    /// A person took part: once it ends, the customer may rate the conversation.
    fn had_agent(self) {
        self.rateable.set(self.saved.get_value());
        self.rated.set(false);
    }

    /// The page hears `agent-joined` once per agent it sees join, however it learnt of them.
    fn announce_agent(self, agent: &str) {
        let known = self
            .phase
            .with_untracked(|phase| matches!(phase, Phase::Connected { agent: known } if known == agent));
        if !known {
            self.emit(&PageEvent::AgentJoined { name: agent.to_owned() });
        }
    }

    fn emit(self, event: &PageEvent) {
        self.events.with_value(|events| events.emit(event));
    }

    /// The conversation is over: stop reconnecting and forget it in this browser.
    fn finish(self, phase: Phase) {
        self.agent_typing.set(false);
        self.phase.set(phase);
        self.socket.close();
        if let Some(storage) = local_storage() {
            let _ = storage.remove_item(&storage_key(&self.api.merchant));
        }
        if let Some(storage) = session_storage() {
            let _ = storage.remove_item(&outbox_key(&self.api.merchant));
        }
        self.saved.set_value(None);
    }

    /// Queues a message and sends it when the connection allows; an error is the catalogue key
    /// of why the text was refused. (The composer's draft then says that typing stopped.)
    pub fn send(self, text: String) -> Result<(), &'static str> {
        validate_text(&text).map_err(|_| crate::text_problem(&text))?;
        // The outbox holds the masked text, so that the customer sees what was sent.
        self.outbox.send((), self.without_card_numbers(text), |pending| {
            self.send_frame(&CustomerFrame::Send { client_id: pending.client_id, text: pending.text });
        });
        Ok(())
    }

    /// Sends the files the customer chose, one after another; each comes back as a message.
    pub fn send_files(self, files: Vec<web_sys::File>) {
        live::run(self, Task::Files(files));
    }

    pub(crate) fn send_files_now(self, files: Vec<web_sys::File>) {
        spawn_local(async move {
            for file in files {
                self.send_file(file).await;
            }
        });
    }

    async fn send_file(self, file: web_sys::File) {
        let Some(saved) = self.saved.get_value() else { return };
        let name = file.name();
        let sent = if file.size() > tandem_protocol::MAX_ATTACHMENT_BYTES as f64 {
            Err(NotSent::TooLarge)
        } else {
            let url = format!(
                "{}/v1/conversations/{}/attachments?client_id={}&name={}",
                self.api.origin,
                saved.conversation_id,
                tandem_browser::client_id(),
                js_sys::encode_uri_component(&name),
            );
            let shown = name.clone();
            self.uploading.set(Some((name.clone(), 0)));
            let progress = move |percent| self.uploading.set(Some((shown.clone(), percent)));
            let sent = tandem_browser::send_file(&url, Some(&saved.token), &file, progress).await;
            self.uploading.set(None);
            sent
        };
        let key = match sent {
            Ok(message) => return self.on_message(message),
            Err(NotSent::Unsupported) => "file.unsupported",
            Err(NotSent::TooLarge) => "file.too-large",
            Err(NotSent::TooMany) => "file.too-many",
            Err(NotSent::Failed) => "file.failed",
        };
        self.notice.set(Some(self.i18n.locale_untracked().format(key, &[("name", &name)])));
    }

    /// A file of this conversation in the browser's memory, fetched with the customer's token.
    pub async fn file_url(self, id: String) -> Option<String> {
        let saved = self.saved.get_value()?;
        let origin = self.api.origin.as_str();
        let url = format!("{origin}/v1/conversations/{}/attachments/{id}", saved.conversation_id);
        tandem_browser::fetch_file(&url, &saved.token).await
    }

    /// `text` with card numbers masked to their last four digits, telling the customer when
    /// there was one: card numbers never leave the browser (the rule is
    /// `tandem_protocol::mask_card_numbers`; the server applies it again before storing).
    fn without_card_numbers(self, text: String) -> String {
        match mask_card_numbers(&text) {
            Some(masked) => {
                self.tell_card_masked();
                masked
            }
            None => text,
        }
    }

    fn tell_card_masked(self) {
        self.tell("card.masked");
    }

    /// `what`, drawn by the live module; nothing until it is here.
    pub fn drawn_live(self, what: live::Drawn) -> Option<AnyView> {
        self.live.get().map(|live| (live.draw)(self, what))
    }

    /// The live module is here, with its views and its socket; what only a conversation with a
    /// person needs starts now.
    #[cfg(feature = "lazy")]
    pub(crate) fn live_arrived(self, live: live::Arrived) {
        if self.live.with_untracked(Option::is_none) {
            self.live_started();
            self.live.set(Some(live));
        }
    }

    /// Tells the customer what the catalogue says under `key`.
    pub(crate) fn tell(self, key: &'static str) {
        self.notice.set(Some(self.i18n.locale_untracked().text(key).into()));
    }

    pub fn typing(self, typing: bool) {
        self.send_frame(&CustomerFrame::Typing { typing });
    }

    /// The customer ends the conversation.
    pub fn end(self) {
        if !self.send_frame(&CustomerFrame::Close) {
            self.finish(Phase::Ended);
        }
    }

    /// The customer would rather not wait: they leave the queue and write a message instead,
    /// answered by email.
    pub fn leave_message_instead(self) {
        self.send_frame(&CustomerFrame::Close);
        self.rateable.set(None);
        self.finish(Phase::Starting);
        self.offer_message(Unanswered::NobodyOnline);
    }

    /// The leave-a-message form, with the merchant's promised reply time.
    fn offer_message(self, why: Unanswered) {
        live::run(self, Task::Offer(why));
    }

    pub(crate) fn offer_message_now(self, why: Unanswered) {
        let url = format!("{}/v1/merchants/{}/availability", self.api.origin, self.api.merchant);
        spawn_local(async move {
            let hours =
                fetch_json::<(), Availability>("GET", &url, None).await.map_or(24, |a| a.reply_within_hours);
            self.phase.set(Phase::Offline { reply_within_hours: hours, why });
        });
    }
}

/// Asks for a person. A refused identity (the merchant's signature is wrong) is said to their
/// developers, and the customer still goes through to a person, as an anonymous visitor.
async fn start_conversation(
    url: &str,
    request: StartConversation,
) -> Result<ConversationStarted, FetchError> {
    let answer = fetch_json::<_, ConversationStarted>("POST", url, Some(&request)).await;
    match &answer {
        Err(FetchError::Status(422, problem)) if problem.contains("identity_") => {
            web_sys::console::warn_1(
                &"Tandem.identify: the server refused the identity (wrong hash, or signed too long ago); the chat continues without it".into(),
            );
            let anonymous = StartConversation { identity: None, ..request };
            fetch_json::<_, ConversationStarted>("POST", url, Some(&anonymous)).await
        }
        _ => answer,
    }
}
