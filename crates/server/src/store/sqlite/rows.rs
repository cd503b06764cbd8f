//! The stored rows as `sqlx::FromRow` types, and their conversion into the store's types: the
//! one place that knows how each column is written (enums by their `as_str` names, lists and
//! transcripts as JSON).

use sqlx::types::Json;
use tandem_protocol::{
    Attachment, Author, ChatMessage, ClientMessageId, ConversationId, CustomerProfile, LeftMessage,
    MerchantId, Rating, Seq, TranscriptEntry,
};

use super::super::{
    Agent, AgentId, Conversation, DispatchSettings, Merchant, Policies, Staffing, StoreError, WidgetSettings,
};

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn parsed<T: std::str::FromStr>(column: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    column.parse().map_err(corrupt)
}

pub(super) fn merchant_id(column: &str) -> Result<MerchantId, StoreError> {
    MerchantId::parse(column).map_err(corrupt)
}

pub(super) fn seq(column: i64) -> Result<Seq, StoreError> {
    Seq::try_from(column).map_err(corrupt)
}

/// The columns [`AgentRow`] reads.
pub(super) const AGENT_COLUMNS: &str =
    "SELECT id, merchant_id, email, display_name, password_hash, languages, skills,
    capacity, role, active FROM agents";

#[derive(sqlx::FromRow)]
pub(super) struct AgentRow {
    id: AgentId,
    merchant_id: String,
    email: String,
    display_name: String,
    password_hash: String,
    languages: Json<Vec<String>>,
    skills: Json<Vec<String>>,
    capacity: u32,
    role: String,
    active: bool,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;

    fn try_from(row: AgentRow) -> Result<Self, StoreError> {
        Ok(Agent {
            id: row.id,
            merchant_id: merchant_id(&row.merchant_id)?,
            email: row.email,
            display_name: row.display_name,
            password_hash: row.password_hash,
            staffing: Staffing {
                languages: row.languages.0,
                skills: row.skills.0,
                capacity: row.capacity,
                role: parsed(&row.role)?,
            },
            active: row.active,
        })
    }
}

/// `SELECT` of every column [`ConversationRow`] reads, followed by the rest of the statement
/// (a literal, so that the whole statement is one `&'static str`).
macro_rules! select_conversations {
    ($rest:literal) => {
        concat!(
            "SELECT id, merchant_id, token_hash, status, agent_id, locale, page_url, reason, escalation,
             transcript, queued_at_ms, customer_id, customer_email, customer_email_signed, customer_name,
             rating, rating_comment,
             skill, created_at_ms, answered_at_ms, accepted_at_ms, ended_at_ms, front
             FROM conversations ",
            $rest
        )
    };
}
pub(super) use select_conversations;

#[derive(sqlx::FromRow)]
pub(super) struct ConversationRow {
    id: String,
    merchant_id: String,
    token_hash: String,
    status: String,
    agent_id: Option<AgentId>,
    locale: String,
    page_url: String,
    reason: String,
    escalation: Option<String>,
    transcript: Json<Vec<TranscriptEntry>>,
    queued_at_ms: i64,
    customer_id: Option<String>,
    customer_email: Option<String>,
    customer_email_signed: bool,
    customer_name: Option<String>,
    rating: Option<i64>,
    rating_comment: Option<String>,
    skill: Option<String>,
    created_at_ms: i64,
    answered_at_ms: Option<i64>,
    accepted_at_ms: Option<i64>,
    ended_at_ms: Option<i64>,
    front: bool,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = StoreError;

    fn try_from(row: ConversationRow) -> Result<Self, StoreError> {
        let rating = match row.rating {
            Some(score) => {
                Some(Rating { score: u8::try_from(score).map_err(corrupt)?, comment: row.rating_comment })
            }
            None => None,
        };
        Ok(Conversation {
            id: ConversationId(row.id),
            merchant_id: merchant_id(&row.merchant_id)?,
            token_hash: row.token_hash,
            status: parsed(&row.status)?,
            agent_id: row.agent_id,
            locale: row.locale,
            page_url: row.page_url,
            reason: parsed(&row.reason)?,
            escalation: row.escalation.as_deref().map(parsed).transpose()?,
            transcript: row.transcript.0,
            queued_at_ms: row.queued_at_ms,
            // Only a verified identity's id is ever stored.
            customer: CustomerProfile {
                verified: row.customer_id.is_some(),
                email_verified: row.customer_email_signed,
                id: row.customer_id,
                email: row.customer_email,
                name: row.customer_name,
            },
            rating,
            skill: row.skill,
            created_at_ms: row.created_at_ms,
            answered_at_ms: row.answered_at_ms,
            accepted_at_ms: row.accepted_at_ms,
            ended_at_ms: row.ended_at_ms,
            front: row.front,
        })
    }
}

/// The columns [`MessageRow`] reads.
pub(super) const MESSAGE_COLUMNS: &str =
    "SELECT seq, author_kind, author_name, client_id, text, sent_at_ms, attachment FROM messages";

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    seq: i64,
    author_kind: String,
    author_name: Option<String>,
    client_id: String,
    text: String,
    sent_at_ms: i64,
    attachment: Option<Json<Attachment>>,
}

/// How an author is stored: a kind, and an agent's name.
pub(super) fn author_columns(author: &Author) -> (&'static str, Option<&str>) {
    match author {
        Author::Customer => ("customer", None),
        Author::Agent { name } => ("agent", Some(name)),
    }
}

impl TryFrom<MessageRow> for ChatMessage {
    type Error = StoreError;

    fn try_from(row: MessageRow) -> Result<Self, StoreError> {
        let author = match (row.author_kind.as_str(), row.author_name) {
            ("customer", _) => Author::Customer,
            ("agent", Some(name)) => Author::Agent { name },
            (kind, _) => return Err(corrupt(format!("message author {kind:?}"))),
        };
        Ok(ChatMessage {
            seq: seq(row.seq)?,
            client_id: ClientMessageId(row.client_id),
            author,
            text: row.text,
            sent_at_ms: row.sent_at_ms,
            attachment: row.attachment.map(|Json(attachment)| attachment),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct LeftMessageRow {
    id: i64,
    email: String,
    text: String,
    locale: String,
    page_url: String,
    transcript: Json<Vec<TranscriptEntry>>,
    created_at_ms: i64,
}

impl From<LeftMessageRow> for LeftMessage {
    fn from(row: LeftMessageRow) -> Self {
        LeftMessage {
            id: row.id,
            email: row.email,
            text: row.text,
            locale: row.locale,
            page_url: row.page_url,
            transcript: row.transcript.0,
            created_at_ms: row.created_at_ms,
        }
    }
}

/// The merchant's own columns; its allowed origins are rows of their own.
#[derive(sqlx::FromRow)]
pub(super) struct MerchantRow {
    display_name: String,
    support_email: Option<String>,
    business_hours: Option<String>,
    locale: Option<String>,
    ask_email: String,
    reply_within_hours: u32,
    identity_secret: Option<String>,
    offer_timeout_secs: u32,
    missed_offers_before_away: u32,
    grace_secs: u32,
    abandon_after_secs: u32,
    max_waiting: u32,
    identity_max_age_secs: u32,
    retain_days: u32,
}

impl MerchantRow {
    pub(super) fn into_merchant(
        self,
        id: MerchantId,
        allowed_origins: Vec<String>,
    ) -> Result<Merchant, StoreError> {
        Ok(Merchant {
            id,
            display_name: self.display_name,
            support_email: self.support_email,
            business_hours: self.business_hours,
            allowed_origins,
            settings: WidgetSettings {
                locale: self.locale,
                ask_email: parsed(&self.ask_email)?,
                reply_within_hours: self.reply_within_hours,
            },
            identity_secret: self.identity_secret,
            dispatch: DispatchSettings {
                offer_timeout_secs: self.offer_timeout_secs,
                missed_offers_before_away: self.missed_offers_before_away,
                grace_secs: self.grace_secs,
            },
            policies: Policies {
                abandon_after_secs: self.abandon_after_secs,
                max_waiting: self.max_waiting,
                identity_max_age_secs: self.identity_max_age_secs,
                retain_days: self.retain_days,
            },
        })
    }
}
