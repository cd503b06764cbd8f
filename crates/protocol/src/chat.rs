//! Live chat between a customer and an agent: REST bodies and the two WebSocket channels.
//!
//! Delivery rules, shared by both channels (see `docs/protocol.md`):
//! - every message a client sends carries a [`ClientMessageId`] it generated; resending the same
//!   id never stores the message twice;
//! - every stored message gets the next [`Seq`] of its conversation, starting at 1;
//! - an `ack` tells the sender its message is committed, with its sequence number;
//! - a reconnecting client says the last sequence it holds and receives exactly what follows;
//! - every error is an `error` frame with a stable [`ErrorCode`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::MerchantId;

/// Version of the WebSocket vocabulary; a client states it in its first frame.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest message text, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Largest WebSocket frame a client may send, in bytes (a full message JSON-escaped fits).
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// Longest client message id, in bytes.
pub const MAX_CLIENT_ID_BYTES: usize = 64;
/// Largest page context (`Tandem.setContext`), as compact JSON, in bytes.
pub const MAX_PAGE_CONTEXT_BYTES: usize = 8 * 1024;
/// Most transcript entries carried into a handoff.
pub const MAX_TRANSCRIPT_ENTRIES: usize = 200;

/// Per-conversation sequence number of a stored message (1, 2, 3…).
pub type Seq = u64;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A conversation, chosen by the server (random, URL-safe).
    ConversationId
);
impl ConversationId {
    /// Longest id a request may name, in bytes (the server's ids are 32 hex digits).
    pub const MAX_BYTES: usize = 64;

    /// An id as a request names it (in a path): 1 to [`Self::MAX_BYTES`] of ASCII letters,
    /// digits, `-` and `_`. Anything else names no conversation, and is never looked up.
    pub fn parse(raw: &str) -> Option<Self> {
        let valid = (1..=Self::MAX_BYTES).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(raw.to_owned()))
    }
}

string_id!(
    /// Chosen by the client for each message it sends, so that retries are recognised.
    ClientMessageId
);

/// Why the customer asked for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The "Talk to a human" button.
    Button,
    /// The customer typed a request for a person.
    TypedRequest,
    /// The bot offered a person and the customer accepted.
    BotOffer,
}

/// Why the bot handed over or offered a person; travels with the handoff to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The customer asked for a person.
    ExplicitRequest,
    /// The bot did not understand several times in a row.
    RepeatedFallback,
    /// The customer sounded upset.
    Frustration,
}

/// Who said a line of the bot conversation that preceded the handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TranscriptSpeaker {
    Customer,
    Bot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct TranscriptEntry {
    pub from: TranscriptSpeaker,
    pub text: String,
}

/// `POST /v1/conversations`: a customer asks for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct StartConversation {
    pub merchant_id: MerchantId,
    /// BCP 47 tag, e.g. `sv-SE`.
    pub locale: String,
    pub page_url: String,
    #[serde(default)]
    pub transcript: Vec<TranscriptEntry>,
    pub reason: HandoffReason,
    /// What the bot noticed, when it took part.
    #[serde(default)]
    pub escalation: Option<EscalationReason>,
    /// Who the merchant's page says the customer is (`Tandem.identify`), signed by the
    /// merchant's server; refused with `identity_unverified` when the signature is wrong.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// The email the customer gave before the handoff, where the merchant asks for one.
    #[serde(default)]
    pub email: Option<String>,
    /// A skill the answering agent needs (e.g. `billing`); agents who have it are offered the
    /// conversation first.
    #[serde(default)]
    pub skill: Option<String>,
}

/// A skill or language name: 1 to 32 ASCII letters, digits or hyphens.
pub fn validate_tag(tag: &str) -> Result<(), &'static str> {
    if (1..=32).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(())
    } else {
        Err("a skill or language is 1 to 32 letters, digits or hyphens")
    }
}

/// The page a customer is on, as the widget reports it: an http(s) URL of at most 2048 bytes.
pub fn validate_page_url(url: &str) -> Result<(), &'static str> {
    if url.len() <= 2048 && (url.starts_with("https://") || url.starts_with("http://")) {
        Ok(())
    } else {
        Err("page_url must be an http(s) URL of at most 2048 bytes")
    }
}

/// A plausible email address: one `@` with text on both sides and a dot in the domain, at most
/// 254 bytes, no spaces. Deliverability is for the mail server to judge.
pub fn validate_email(email: &str) -> Result<(), &'static str> {
    let plausible = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if plausible { Ok(()) } else { Err("enter an email address such as name@example.com") }
}

/// Who the customer is, as far as the agent can know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct CustomerProfile {
    /// The merchant's id for the customer; present only when the merchant's signature was valid.
    pub id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// `id` and `name` came from a signed `Tandem.identify`.
    pub verified: bool,
    /// `email` was signed with them too (otherwise the customer typed it).
    #[serde(default)]
    pub email_verified: bool,
}

/// The customer's rating of a conversation with a person, given when it ended:
/// `POST /v1/conversations/{id}/rating` with the customer token as a bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct Rating {
    /// 1 (bad) to 5 (great).
    pub score: u8,
    #[serde(default)]
    pub comment: Option<String>,
}

impl Rating {
    pub const MAX_COMMENT_CHARS: usize = 1000;

    pub fn validate(&self) -> Result<(), &'static str> {
        if !(1..=5).contains(&self.score) {
            return Err("score is 1 to 5");
        }
        if self.comment.as_ref().is_some_and(|c| c.chars().count() > Self::MAX_COMMENT_CHARS) {
            return Err("a comment has at most 1000 characters");
        }
        Ok(())
    }
}

/// Whether a person can answer now: `GET /v1/merchants/{id}/availability`. When nobody can,
/// the widget offers to leave a message instead of a queue with no end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct Availability {
    pub agents_online: bool,
    /// Inside the merchant's business hours (always, when it has none).
    #[serde(default = "always")]
    pub open: bool,
    /// The hours as the merchant wrote them, e.g. `Mon-Fri 09:00-17:00 +01:00`.
    #[serde(default)]
    pub business_hours: Option<String>,
    /// What the merchant promises for messages left: a reply by email within this many hours.
    pub reply_within_hours: u32,
}

fn always() -> bool {
    true
}

/// A message left when no person could answer: `POST /v1/merchants/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct LeaveMessage {
    pub email: String,
    pub text: String,
    pub locale: String,
    pub page_url: String,
    #[serde(default)]
    pub transcript: Vec<TranscriptEntry>,
}

/// `POST /v1/conversations/{id}/transcript`: email me this conversation, which has ended.
/// Without `email`, it goes to the address the customer gave before the handoff or the one
/// the merchant's page signed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct TranscriptRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The answer to a [`TranscriptRequest`]: queued, to this address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct TranscriptQueued {
    pub email: String,
}

/// A stored [`LeaveMessage`], as agents see it: `GET /v1/agent/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct LeftMessage {
    pub id: i64,
    pub email: String,
    pub text: String,
    pub locale: String,
    pub page_url: String,
    pub transcript: Vec<TranscriptEntry>,
    pub created_at_ms: i64,
}

/// A customer identified by the merchant's page. `hash` is the lowercase hex HMAC-SHA256 of
/// [`Identity::signed_text`] under the merchant's identity secret, computed on the merchant's
/// server, so that a page script can neither claim to be another customer nor change what the
/// agent is shown, and `issued_at` lets a leaked identity expire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct Identity {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// When the merchant's server signed it, in seconds since the Unix epoch.
    #[serde(default)]
    pub issued_at: Option<i64>,
    pub hash: String,
}

impl Identity {
    pub const MAX_ID_CHARS: usize = 256;
    pub const MAX_NAME_CHARS: usize = 100;
    pub const MAX_EMAIL_CHARS: usize = 254;

    /// What `hash` signs: id, email, name and issued_at, one per line (an absent one empty),
    /// which is why no field may hold a line break.
    pub fn signed_text(&self) -> String {
        let (email, name) = (self.email.as_deref().unwrap_or(""), self.name.as_deref().unwrap_or(""));
        format!("{}\n{email}\n{name}\n{}", self.id, self.issued_at.unwrap_or(0))
    }

    /// Checks the shape (lengths, a 64-digit hex hash); the signature is the server's to check.
    pub fn validate(&self) -> Result<(), &'static str> {
        let fields = [Some(&self.id), self.email.as_ref(), self.name.as_ref()];
        if fields.into_iter().flatten().any(|field| field.bytes().any(|b| b == b'\n' || b == b'\r')) {
            return Err("identity fields cannot contain line breaks");
        }
        if self.issued_at.is_none_or(|at| at <= 0) {
            return Err("identity.issued_at is required: the Unix time (seconds) it was signed at");
        }
        if self.id.trim().is_empty() || self.id.chars().count() > Self::MAX_ID_CHARS {
            return Err("identity.id must have 1 to 256 characters");
        }
        if self.name.as_ref().is_some_and(|name| name.chars().count() > Self::MAX_NAME_CHARS) {
            return Err("identity.name has at most 100 characters");
        }
        if self
            .email
            .as_ref()
            .is_some_and(|email| email.len() > Self::MAX_EMAIL_CHARS || !email.contains('@'))
        {
            return Err("identity.email must be an email address");
        }
        if self.hash.len() != 64
            || !self.hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(
                "identity.hash must be 64 lowercase hex digits (HMAC-SHA256 of id, email, name and issued_at)",
            );
        }
        Ok(())
    }
}

/// Where a waiting customer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct QueueStatus {
    /// 1 is next.
    pub position: u32,
    pub estimated_wait_secs: u32,
}

/// The answer to [`StartConversation`]. The token authenticates the customer's WebSocket
/// (in its first frame, never in a URL) and is shown only this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct ConversationStarted {
    pub conversation_id: ConversationId,
    pub customer_token: String,
    pub queue: QueueStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Waiting,
    Active,
    Ended,
}

/// Who wrote a stored message. Read as its flat fields (as [`customer_event`] says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "AuthorFields")]
pub enum Author {
    Customer,
    Agent { name: String },
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
enum AuthorKind {
    Customer,
    Agent,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct AuthorFields {
    kind: AuthorKind,
    name: Option<String>,
}

impl TryFrom<AuthorFields> for Author {
    type Error = customer_event::Missing;

    fn try_from(fields: AuthorFields) -> Result<Self, Self::Error> {
        Ok(match fields.kind {
            AuthorKind::Customer => Self::Customer,
            AuthorKind::Agent => Self::Agent { name: fields.name.ok_or(customer_event::Missing("name"))? },
        })
    }
}

/// A message as stored: the unit of delivery, ordered by `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct ChatMessage {
    pub seq: Seq,
    pub client_id: ClientMessageId,
    pub author: Author,
    /// For a file, its name (what a client that shows no files shows).
    pub text: String,
    /// Milliseconds since the Unix epoch, server clock.
    pub sent_at_ms: i64,
    /// The file this message is, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::Attachment>,
}

/// Frames the customer's widget sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerFrame {
    /// Must be the first frame: who this is, and the last message already held (`last_seq` 0
    /// for none). With `last_client_id`, the client id of that message, the server can tell
    /// when it no longer holds that very message (a restored database) and sends `transcript`.
    Hello {
        version: u32,
        conversation_id: ConversationId,
        token: String,
        last_seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_client_id: Option<ClientMessageId>,
    },
    Send {
        client_id: ClientMessageId,
        text: String,
    },
    Typing {
        typing: bool,
    },
    /// The customer has seen everything up to `seq`.
    Read {
        seq: Seq,
    },
    /// The customer ends the conversation.
    Close,
}

/// Frames the server sends the customer. Read through [`customer_event::Fields`] (see there why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", try_from = "customer_event::Fields")]
pub enum CustomerEvent {
    /// The answer to `hello`: the conversation's state; missed messages follow as `message`s.
    Welcome {
        status: ConversationStatus,
        agent_name: Option<String>,
        queue: Option<QueueStatus>,
    },
    Message {
        message: ChatMessage,
    },
    /// The whole conversation, replacing the client's copy: sent after `welcome` instead of
    /// the missed messages when the server no longer holds the last message the client named
    /// (its database was restored from an older copy, or lost its last commits).
    Transcript {
        messages: Vec<ChatMessage>,
    },
    Ack {
        client_id: ClientMessageId,
        seq: Seq,
    },
    Queue {
        queue: QueueStatus,
    },
    AgentJoined {
        name: String,
    },
    /// The agent left and the conversation is back in the queue.
    AgentLeft {
        name: String,
    },
    Typing {
        typing: bool,
    },
    /// The agent read up to `seq`.
    Read {
        seq: Seq,
    },
    Closed,
    /// The agent handed the customer back to the bot; the conversation with a person ended.
    BackToBot,
    Error {
        code: ErrorCode,
        message: String,
        /// The `send` refused, when it was one: `rate_limited` means send it again later,
        /// anything else that it will never be stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<ClientMessageId>,
    },
}

/// How a [`CustomerEvent`] is read: as one flat object of every variant's fields, then checked
/// against its `type`. It is what the widget downloads, and serde's own reading of an internally
/// tagged enum buffers the whole frame into a generic value first and reads each variant from
/// that, which was a tenth of the widget's code. The wire is the same: a test writes every
/// variant with the derived `Serialize` and reads it back through this.
pub mod customer_event {
    use serde::Deserialize;
    use serde::de::{self, Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};

    use super::{
        ChatMessage, ClientMessageId, ConversationStatus, CustomerEvent, ErrorCode, QueueStatus, Seq,
    };

    #[derive(Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Welcome,
        Message,
        Transcript,
        Ack,
        Queue,
        AgentJoined,
        AgentLeft,
        Typing,
        Read,
        Closed,
        BackToBot,
        Error,
    }

    /// Every field any variant has; `message` is a stored message (`message`) or a text (`error`).
    #[derive(Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub struct Fields {
        r#type: Kind,
        status: Option<ConversationStatus>,
        agent_name: Option<String>,
        queue: Option<QueueStatus>,
        message: Option<MessageField>,
        messages: Option<Vec<ChatMessage>>,
        client_id: Option<ClientMessageId>,
        seq: Option<Seq>,
        name: Option<String>,
        typing: Option<bool>,
        code: Option<ErrorCode>,
    }

    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema), serde(untagged))]
    enum MessageField {
        Stored(ChatMessage),
        Text(String),
    }

    impl<'de> Deserialize<'de> for MessageField {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Either;
            impl<'de> Visitor<'de> for Either {
                type Value = MessageField;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a message or a text")
                }
                fn visit_str<E: de::Error>(self, text: &str) -> Result<MessageField, E> {
                    Ok(MessageField::Text(text.to_owned()))
                }
                fn visit_string<E: de::Error>(self, text: String) -> Result<MessageField, E> {
                    Ok(MessageField::Text(text))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MessageField, A::Error> {
                    ChatMessage::deserialize(MapAccessDeserializer::new(map)).map(MessageField::Stored)
                }
            }
            deserializer.deserialize_any(Either)
        }
    }

    /// A field the frame's `type` needs and it lacks (or of the other kind, for `message`).
    #[derive(Debug)]
    pub struct Missing(pub(crate) &'static str);

    impl std::fmt::Display for Missing {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "missing field `{}`", self.0)
        }
    }

    impl TryFrom<Fields> for CustomerEvent {
        type Error = Missing;

        fn try_from(f: Fields) -> Result<Self, Missing> {
            let need = |name| Missing(name);
            let (stored, text) = match f.message {
                Some(MessageField::Stored(message)) => (Some(message), None),
                Some(MessageField::Text(text)) => (None, Some(text)),
                None => (None, None),
            };
            Ok(match f.r#type {
                Kind::Welcome => Self::Welcome {
                    status: f.status.ok_or(need("status"))?,
                    agent_name: f.agent_name,
                    queue: f.queue,
                },
                Kind::Message => Self::Message { message: stored.ok_or(need("message"))? },
                Kind::Transcript => Self::Transcript { messages: f.messages.ok_or(need("messages"))? },
                Kind::Ack => Self::Ack {
                    client_id: f.client_id.ok_or(need("client_id"))?,
                    seq: f.seq.ok_or(need("seq"))?,
                },
                Kind::Queue => Self::Queue { queue: f.queue.ok_or(need("queue"))? },
                Kind::AgentJoined => Self::AgentJoined { name: f.name.ok_or(need("name"))? },
                Kind::AgentLeft => Self::AgentLeft { name: f.name.ok_or(need("name"))? },
                Kind::Typing => Self::Typing { typing: f.typing.ok_or(need("typing"))? },
                Kind::Read => Self::Read { seq: f.seq.ok_or(need("seq"))? },
                Kind::Closed => Self::Closed,
                Kind::BackToBot => Self::BackToBot,
                Kind::Error => Self::Error {
                    code: f.code.ok_or(need("code"))?,
                    message: text.ok_or(need("message"))?,
                    client_id: f.client_id,
                },
            })
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Away,
    Offline,
}

/// A waiting conversation, as agents see it in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct QueueEntry {
    pub conversation_id: ConversationId,
    pub waiting_since_ms: i64,
    pub locale: String,
    pub reason: HandoffReason,
    pub escalation: Option<EscalationReason>,
    /// The last lines of the bot conversation.
    pub preview: Vec<TranscriptEntry>,
    /// The skill the page asked for, if any.
    #[serde(default)]
    pub skill: Option<String>,
}

/// Everything an agent sees of a conversation they handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct ConversationDetail {
    pub conversation_id: ConversationId,
    pub status: ConversationStatus,
    pub locale: String,
    pub page_url: String,
    pub reason: HandoffReason,
    pub escalation: Option<EscalationReason>,
    pub transcript: Vec<TranscriptEntry>,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub customer: CustomerProfile,
    /// The customer's rating, once they gave one.
    #[serde(default)]
    pub rating: Option<Rating>,
    /// What the customer's page said of itself (`Tandem.setContext`: the cart, an order id), as
    /// the JSON text of an object of at most [`MAX_PAGE_CONTEXT_BYTES`]. Not verified: any page
    /// script could have written it.
    #[serde(default)]
    pub page_context: Option<String>,
    /// What the merchant's agents wrote for each other; never sent to the customer.
    #[serde(default)]
    pub notes: Vec<Note>,
}

/// An internal note on a conversation: from one of the merchant's agents to the others (a
/// colleague it is transferred to, a supervisor reading the transcript), never to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct Note {
    /// Increasing within the installation: notes are listed in this order.
    pub id: i64,
    /// The id the console gave it, so that a note sent again is stored once.
    pub client_id: ClientMessageId,
    pub author_name: String,
    pub text: String,
    pub sent_at_ms: i64,
}

/// Frames the agent console sends. The agent is known from the session cookie of the upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentFrame {
    SetPresence {
        presence: Presence,
    },
    /// Take a waiting conversation. Of two agents accepting the same one, exactly one wins.
    Accept {
        conversation_id: ConversationId,
    },
    Send {
        conversation_id: ConversationId,
        client_id: ClientMessageId,
        text: String,
    },
    Typing {
        conversation_id: ConversationId,
        typing: bool,
    },
    Read {
        conversation_id: ConversationId,
        seq: Seq,
    },
    End {
        conversation_id: ConversationId,
    },
    /// Put the conversation back in the queue for another agent.
    Requeue {
        conversation_id: ConversationId,
    },
    /// After a reconnect: send what followed `last_seq` in a conversation this agent handles
    /// (or, as for the customer's `hello`, the whole `transcript` when that message is gone).
    Resume {
        conversation_id: ConversationId,
        last_seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_client_id: Option<ClientMessageId>,
    },
    /// Says no to an offer; it moves on to the next agent.
    Decline {
        conversation_id: ConversationId,
    },
    /// Hands an active chat to a colleague: it is offered to them first.
    Transfer {
        conversation_id: ConversationId,
        to_agent: i64,
    },
    /// Gives the customer back to the bot; the chat ends for the agent.
    HandToBot {
        conversation_id: ConversationId,
    },
    /// An internal note on a chat this agent handles, for the merchant's agents only.
    Note {
        conversation_id: ConversationId,
        client_id: ClientMessageId,
        text: String,
    },
}

/// Why an offer is no longer open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OfferEnd {
    /// Not answered in time; offered to the next agent.
    Expired,
    /// Taken by another agent, left by the customer, or withdrawn when the agent went away.
    Withdrawn,
}

/// Frames the server sends the agent console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// First frame: who the agent is, and the conversations they already handle.
    Welcome {
        name: String,
        presence: Presence,
        chats: Vec<ConversationDetail>,
    },
    /// The whole queue, oldest first; sent at start and whenever it changes.
    Queue {
        entries: Vec<QueueEntry>,
    },
    /// This agent now handles the conversation.
    Accepted {
        conversation: ConversationDetail,
    },
    Message {
        conversation_id: ConversationId,
        message: ChatMessage,
    },
    /// The whole conversation, replacing the console's copy (see [`CustomerEvent::Transcript`]).
    Transcript {
        conversation_id: ConversationId,
        messages: Vec<ChatMessage>,
    },
    Ack {
        conversation_id: ConversationId,
        client_id: ClientMessageId,
        seq: Seq,
    },
    Typing {
        conversation_id: ConversationId,
        typing: bool,
    },
    Read {
        conversation_id: ConversationId,
        seq: Seq,
    },
    /// An internal note was stored (the answer to this console's `note`, or a colleague's).
    Note {
        conversation_id: ConversationId,
        note: Note,
    },
    /// The conversation ended (by either side) or was put back in the queue.
    Ended {
        conversation_id: ConversationId,
    },
    Presence {
        presence: Presence,
    },
    /// The customer rated a conversation this agent handled.
    Rated {
        conversation_id: ConversationId,
        rating: Rating,
    },
    /// A waiting customer offered to this agent alone, until `expires_at_ms` (server clock).
    Offer {
        offer: QueueEntry,
        expires_at_ms: i64,
        /// The offer timeout, so the console can count down without trusting clocks to agree.
        timeout_secs: u32,
    },
    OfferEnded {
        conversation_id: ConversationId,
        reason: OfferEnd,
    },
    /// The agent let `missed_offers` offers in a row expire and is now away.
    SetAway {
        missed_offers: u32,
    },
    Error {
        code: ErrorCode,
        message: String,
        conversation_id: Option<ConversationId>,
    },
}

/// Stable error codes of WebSocket `error` frames. Never renamed or reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON of a known shape.
    MalformedFrame,
    /// The frame exceeds [`MAX_FRAME_BYTES`].
    FrameTooLarge,
    /// The text is empty or longer than [`MAX_MESSAGE_CHARS`].
    InvalidMessage,
    /// The first frame was not `hello`, or `hello` came twice.
    ExpectedHello,
    UnsupportedVersion,
    /// Unknown conversation or wrong token; the connection closes.
    Unauthorized,
    /// Too many frames; slow down and resend (with the same client id).
    RateLimited,
    /// The conversation was taken by another agent first.
    AlreadyTaken,
    /// Not a conversation this agent handles, or not in a state allowing the action.
    NotAllowed,
    /// The conversation has ended.
    ConversationEnded,
    /// The agent already has as many chats as their capacity allows.
    AtCapacity,
    /// The colleague to transfer to is not online with room for another chat.
    Unavailable,
    Internal,
}

/// `POST /v1/agent/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct AgentLogin {
    pub email: String,
    pub password: String,
}

/// The signed-in agent (`POST /v1/agent/login`, `GET /v1/agent/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct AgentProfile {
    #[serde(default)]
    pub id: i64,
    pub merchant_id: MerchantId,
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub role: AgentRole,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    #[default]
    Agent,
    /// Invites and deactivates agents, and sees the supervisor view.
    Admin,
}

/// Checks message text against the shared limits; the same rule runs in widget and server.
pub fn validate_text(text: &str) -> Result<(), &'static str> {
    if text.trim().is_empty() {
        return Err("a message cannot be empty");
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err("a message has at most 4000 characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame the server writes (derived `Serialize`) reads back as itself through
    /// `customer_event::Fields`, whatever the order of its fields; one missing what its `type`
    /// needs is refused.
    #[test]
    fn every_customer_event_reads_back_as_written() {
        let stored = ChatMessage {
            seq: 3,
            client_id: ClientMessageId("c-3".into()),
            author: Author::Agent { name: "Anna".into() },
            text: "Hello".into(),
            sent_at_ms: 1_764_000_000_000,
            attachment: None,
        };
        let file = ChatMessage {
            attachment: Some(crate::Attachment {
                id: "f1".into(),
                name: "receipt.png".into(),
                kind: crate::FileKind::Png,
                size: 2048,
            }),
            ..stored.clone()
        };
        let queue = QueueStatus { position: 2, estimated_wait_secs: 60 };
        let events = [
            CustomerEvent::Welcome {
                status: ConversationStatus::Waiting,
                agent_name: None,
                queue: Some(queue),
            },
            CustomerEvent::Welcome {
                status: ConversationStatus::Active,
                agent_name: Some("Anna".into()),
                queue: None,
            },
            CustomerEvent::Message { message: stored.clone() },
            CustomerEvent::Message { message: file },
            CustomerEvent::Transcript { messages: vec![stored.clone(), stored] },
            CustomerEvent::Ack { client_id: ClientMessageId("c-1".into()), seq: 1 },
            CustomerEvent::Queue { queue },
            CustomerEvent::AgentJoined { name: "Anna".into() },
            CustomerEvent::AgentLeft { name: "Anna".into() },
            CustomerEvent::Typing { typing: true },
            CustomerEvent::Read { seq: 2 },
            CustomerEvent::Closed,
            CustomerEvent::BackToBot,
            CustomerEvent::Error { code: ErrorCode::RateLimited, message: "later".into(), client_id: None },
            CustomerEvent::Error {
                code: ErrorCode::InvalidMessage,
                message: "no".into(),
                client_id: Some(ClientMessageId("c-2".into())),
            },
        ];
        for event in events {
            let json = serde_json::to_string(&event).expect("json");
            assert_eq!(serde_json::from_str::<CustomerEvent>(&json).expect(&json), event);
        }
        let tag_last: CustomerEvent =
            serde_json::from_str(r#"{"name":"Bo","type":"agent_joined"}"#).expect("read");
        assert_eq!(tag_last, CustomerEvent::AgentJoined { name: "Bo".into() });
        for refused in [
            r#"{"type":"ack","seq":1}"#,
            r#"{"type":"message","message":"a text, not a stored message"}"#,
            r#"{"type":"error","code":"internal","message":{"seq":1}}"#,
            r#"{"type":"welcome"}"#,
            r#"{"type":"nothing"}"#,
        ] {
            assert!(serde_json::from_str::<CustomerEvent>(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn conversation_ids_in_requests_are_short_url_safe_words() {
        assert_eq!(ConversationId::parse("0f3a-b_9"), Some(ConversationId("0f3a-b_9".into())));
        assert_eq!(ConversationId::parse(&"a".repeat(64)).map(|id| id.0.len()), Some(64));
        for refused in ["", "a/b", "a b", "é", "../x", &"a".repeat(65)] {
            assert_eq!(ConversationId::parse(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn frames_are_tagged_snake_case_json() {
        let frame = CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text: "hi".into() };
        assert_eq!(
            serde_json::to_string(&frame).expect("json"),
            r#"{"type":"send","client_id":"c1","text":"hi"}"#
        );
        let event: AgentEvent = serde_json::from_str(
            r#"{"type":"error","code":"already_taken","message":"taken","conversation_id":"k"}"#,
        )
        .expect("parse");
        assert!(matches!(event, AgentEvent::Error { code: ErrorCode::AlreadyTaken, .. }));
    }

    #[test]
    fn text_limits() {
        assert!(validate_text("hello").is_ok());
        assert!(validate_text("  \n").is_err());
        assert!(validate_text(&"é".repeat(4000)).is_ok());
        assert!(validate_text(&"é".repeat(4001)).is_err());
    }
}
