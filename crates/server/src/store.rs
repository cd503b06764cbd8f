//! Storage behind one trait, so that each database is an implementation rather than a rewrite.
//!
//! The server holds an `Arc<dyn Store>`; `sqlite` is the embedded default, `postgres` the one
//! several instances share. Each has its own embedded migrations. Every method is one
//! transaction: what it returns is committed.

mod mails;
mod postgres;
mod sqlite;
#[cfg(test)]
mod suite;

use async_trait::async_trait;
use tandem_protocol::{
    AskEmail, Attachment, Author, CannedResponse, ChatMessage, ClientMessageId, ConversationId,
    ConversationStatus, CustomerProfile, EscalationReason, HandoffReason, LeaveMessage, LeftMessage,
    MerchantId, Note, Rating, Seq, TranscriptEntry,
};

pub use mails::{DueMail, MailRecord, NewMail};
pub use postgres::{PgStore, scratch_database};
pub use sqlite::SqliteStore;

/// Where the store lives: a SQLite file in the data directory (the default), or the database a
/// `--database` URL names (`postgres://…`, or `sqlite://<file>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    /// From `--database` (if given) and `--data-dir`; an unknown scheme is refused with the
    /// ones that work.
    pub fn parse(database: Option<&str>, data_dir: &std::path::Path) -> Result<Self, String> {
        let Some(url) = database.map(str::trim).filter(|url| !url.is_empty()) else {
            return Ok(Self::Sqlite(data_dir.join("tandem.sqlite3")));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        match url.strip_prefix("sqlite://") {
            Some(file) if !file.is_empty() => Ok(Self::Sqlite(file.into())),
            _ => Err(format!(
                "--database {url:?} is not a database URL Tandem speaks: use postgres://user:password@host:5432/db, or sqlite://path/to/file.sqlite3"
            )),
        }
    }

    /// Opens (and migrates) the store.
    pub async fn open(&self) -> Result<std::sync::Arc<dyn Store>, StoreError> {
        Ok(match self {
            Self::Sqlite(file) => std::sync::Arc::new(SqliteStore::open(file).await?),
            Self::Postgres(url) => std::sync::Arc::new(PgStore::connect(url).await?),
        })
    }

    /// For messages: the file, or the server and database (never the password).
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(file) => file.display().to_string(),
            Self::Postgres(url) => {
                let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
                let host_and_db = after_scheme.rsplit_once('@').map_or(after_scheme, |(_, rest)| rest);
                format!("postgres://{}", host_and_db.split('?').next().unwrap_or(host_and_db))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("no merchant {0}")]
    UnknownMerchant(MerchantId),
    /// Between instances on one PostgreSQL (`crate::cluster`).
    #[error("{0}")]
    Cluster(String),
    /// An agent stays with their merchant: the same email for another one is refused.
    #[error("{email} is an agent of merchant {merchant}")]
    AgentOfAnotherMerchant { email: String, merchant: MerchantId },
    /// `tandem backup` writes a new file, never over an old backup.
    #[error("{0}: choose a new file for the backup (it must not exist yet, and its path must be UTF-8)")]
    BackupTarget(std::path::PathBuf),
    /// A file past its conversation's limit ([`NewFile`]); nothing was stored.
    #[error("the conversation's files for the hour are sent")]
    TooManyFiles,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub id: MerchantId,
    pub display_name: String,
    pub support_email: Option<String>,
    /// Page origins allowed to embed the widget, e.g. `https://shop.example`.
    pub allowed_origins: Vec<String>,
    /// Staffed hours as shown to people, e.g. "Mon–Fri 09:00–17:00 CET"; `None`: always.
    pub business_hours: Option<String>,
    pub settings: WidgetSettings,
    pub dispatch: DispatchSettings,
    /// Key (hex) of the HMAC-SHA256 signing `Tandem.identify` ids; set on its own with
    /// [`Store::set_identity_secret`], never by an upsert.
    pub identity_secret: Option<String>,
    pub policies: Policies,
}

/// How long the merchant's customers wait, are trusted and are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    /// Seconds a waiting customer may have no live connection before the chat is abandoned
    /// (a reload or the next checkout page is back well within it).
    pub abandon_after_secs: u32,
    /// Most chats waiting at once: past it, a handoff is refused with `too_busy` (and the
    /// widget offers to leave a message), so a flood cannot grow the queue without bound.
    pub max_waiting: u32,
    /// Seconds a signed identity stays valid after its `issued_at`: a leaked one expires.
    pub identity_max_age_secs: u32,
    /// Days conversations and left messages are kept.
    pub retain_days: u32,
}

impl Default for Policies {
    fn default() -> Self {
        Self { abandon_after_secs: 120, max_waiting: 200, identity_max_age_secs: 86_400, retain_days: 365 }
    }
}

/// How the merchant's widget behaves for customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSettings {
    /// BCP 47 tag; unset: the page's and the browser's language.
    pub locale: Option<String>,
    pub ask_email: AskEmail,
    /// The reply time promised for messages left when nobody is online.
    pub reply_within_hours: u32,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self { locale: None, ask_email: AskEmail::Off, reply_within_hours: 24 }
    }
}

/// How the merchant's customers are offered to agents (see `tandem_dispatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchSettings {
    /// Seconds an agent has to accept or decline an offer.
    pub offer_timeout_secs: u32,
    /// Offers an agent may let expire in a row before being set away.
    pub missed_offers_before_away: u32,
    /// Seconds an agent's chats wait for them after their console disconnects.
    pub grace_secs: u32,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self { offer_timeout_secs: 20, missed_offers_before_away: 3, grace_secs: 60 }
    }
}

impl DispatchSettings {
    pub fn rules(self) -> tandem_dispatch::Settings {
        tandem_dispatch::Settings {
            offer_timeout_ms: i64::from(self.offer_timeout_secs) * 1000,
            missed_offers_before_away: self.missed_offers_before_away,
            grace_ms: i64::from(self.grace_secs) * 1000,
        }
    }
}

impl Merchant {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|allowed| allowed == origin)
    }
}

pub type AgentId = i64;

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub merchant_id: MerchantId,
    pub email: String,
    pub display_name: String,
    /// An argon2id PHC string (see `crate::password`).
    pub password_hash: String,
    pub staffing: Staffing,
}

/// What an agent can take on, and may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staffing {
    /// Primary language subtags, e.g. `en`, `sv`.
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    /// Chats at once.
    pub capacity: u32,
    pub role: AgentRole,
}

impl Default for Staffing {
    fn default() -> Self {
        Self { languages: vec!["en".into()], skills: Vec::new(), capacity: 3, role: AgentRole::Agent }
    }
}

pub use tandem_protocol::AgentRole;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub merchant_id: MerchantId,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub staffing: Staffing,
    /// Deactivated agents cannot sign in.
    pub active: bool,
}

impl Agent {
    pub fn dispatch_profile(&self) -> tandem_dispatch::AgentProfile {
        tandem_dispatch::AgentProfile {
            id: self.id,
            languages: self.staffing.languages.clone(),
            skills: self.staffing.skills.clone(),
            capacity: self.staffing.capacity,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.staffing.role == AgentRole::Admin
    }
}

/// A single-use link for a new agent of `merchant`, stored by its token's hash.
#[derive(Debug, Clone)]
pub struct NewInvite<'a> {
    pub token_hash: &'a str,
    pub merchant: &'a MerchantId,
    pub role: AgentRole,
    /// The admin who made it (`None`: the CLI); deactivating them revokes it.
    pub created_by: Option<AgentId>,
    pub expires_at_ms: i64,
}

/// What redeeming an invite did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    Agent(AgentId),
    /// Unknown, used or expired.
    InvalidInvite,
    EmailTaken,
}

#[derive(Debug, Clone)]
pub struct NewConversation {
    pub id: ConversationId,
    pub merchant_id: MerchantId,
    pub token_hash: String,
    pub locale: String,
    pub page_url: String,
    pub reason: HandoffReason,
    pub escalation: Option<EscalationReason>,
    pub transcript: Vec<TranscriptEntry>,
    pub customer: CustomerProfile,
    /// A skill the answering agent needs, if the page asked for one.
    pub skill: Option<String>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub merchant_id: MerchantId,
    pub token_hash: String,
    pub status: ConversationStatus,
    pub agent_id: Option<AgentId>,
    pub locale: String,
    pub page_url: String,
    pub reason: HandoffReason,
    pub escalation: Option<EscalationReason>,
    pub transcript: Vec<TranscriptEntry>,
    pub queued_at_ms: i64,
    pub customer: CustomerProfile,
    pub rating: Option<Rating>,
    pub skill: Option<String>,
    pub created_at_ms: i64,
    /// When a person first accepted it.
    pub answered_at_ms: Option<i64>,
    /// When its current agent accepted it.
    pub accepted_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
    /// Returned to the queue by an agent: waits ahead of those not yet answered.
    pub front: bool,
}

impl Conversation {
    pub fn need(&self) -> tandem_dispatch::Need {
        tandem_dispatch::Need::for_locale(&self.locale, self.skill.clone())
    }
}

/// An internal note to store (see [`Store::add_note`]).
#[derive(Debug, Clone)]
pub struct NewNote {
    pub agent: AgentId,
    pub author_name: String,
    pub client_id: ClientMessageId,
    pub text: String,
    pub now_ms: i64,
}

/// What both databases read of a note: its conversation, id, client id, author's name, text
/// and time (a tuple, which either database decodes).
const NOTE_COLUMNS: &str =
    "SELECT n.conversation_id, n.id, n.client_id, n.author_name, n.text, n.created_at_ms FROM notes n";
type NoteRow = (String, i64, String, String, String, i64);

/// What both databases read of a canned response: shortcut, title and its texts as JSON.
const CANNED_COLUMNS: &str = "SELECT shortcut, title, texts FROM canned_responses";
type CannedRow = (String, String, String);

fn canned((shortcut, title, texts): CannedRow) -> Result<CannedResponse, StoreError> {
    let texts = serde_json::from_str(&texts)
        .map_err(|error| StoreError::Corrupt(format!("canned texts: {error}")))?;
    Ok(CannedResponse { shortcut, title, texts })
}

fn canned_texts(canned: &CannedResponse) -> String {
    serde_json::to_string(&canned.texts).unwrap_or_else(|_| "[]".into())
}

fn note((conversation, id, client_id, author_name, text, sent_at_ms): NoteRow) -> (ConversationId, Note) {
    let note = Note { id, client_id: ClientMessageId(client_id), author_name, text, sent_at_ms };
    (ConversationId(conversation), note)
}

/// What both databases read of a file: id, kind, name, size and bytes.
type FileRow = (String, String, String, i64, Vec<u8>);

fn file((id, kind, name, size, bytes): FileRow) -> Result<File, StoreError> {
    let kind = tandem_protocol::FileKind::from_media_type(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("file kind {kind:?}")))?;
    let size = u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("file size {size}")))?;
    Ok(File { attachment: Attachment { id, name, kind, size }, bytes })
}

/// A merchant's webhook: where its events are sent, signed with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub merchant_id: MerchantId,
    pub url: String,
    pub secret: String,
    /// The events it is sent, by name (`crate::webhooks::Event::name`).
    pub events: Vec<String>,
    pub created_at_ms: i64,
}

/// A delivery an instance took to send now (see [`Store::claim_deliveries`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub body: String,
    /// Attempts before this one.
    pub attempts: u32,
    pub created_at_ms: i64,
}

/// How an attempt to send a delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Failed (why); tried again at `retry_at_ms`, or never when `None` (past 24 hours).
    Failed {
        error: String,
        retry_at_ms: Option<i64>,
    },
}

/// A delivery as `tandem merchant webhook deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub attempts: u32,
    pub created_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
    pub given_up: bool,
    pub last_error: Option<String>,
}

/// What both databases read of a webhook, and of a delivery claimed or listed.
const WEBHOOK_COLUMNS: &str = "SELECT id, merchant_id, url, secret, events, created_at_ms FROM webhooks";
type WebhookRow = (String, String, String, String, String, i64);
const DUE_COLUMNS: &str = "SELECT d.id, w.url, w.secret, d.event, d.body, d.attempts, d.created_at_ms \
     FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id";
type DueRow = (String, String, String, String, String, i64, i64);
const DELIVERY_COLUMNS: &str = "SELECT d.id, d.webhook_id, d.event, d.attempts, d.created_at_ms, \
     d.delivered_at_ms, d.given_up, d.last_error FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id";
type DeliveryRow = (String, String, String, i64, i64, Option<i64>, bool, Option<String>);

fn webhook((id, merchant, url, secret, events, created_at_ms): WebhookRow) -> Result<Webhook, StoreError> {
    let merchant_id = MerchantId::parse(&merchant).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    let events = events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect();
    Ok(Webhook { id, merchant_id, url, secret, events, created_at_ms })
}

fn due((id, url, secret, event, body, attempts, created_at_ms): DueRow) -> DueDelivery {
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    DueDelivery { id, url, secret, event, body, attempts, created_at_ms }
}

fn delivery(row: DeliveryRow) -> DeliveryRecord {
    let (id, webhook_id, event, attempts, created_at_ms, delivered_at_ms, given_up, last_error) = row;
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    DeliveryRecord { id, webhook_id, event, attempts, created_at_ms, delivered_at_ms, given_up, last_error }
}

/// Which side of a conversation did something: the customer or the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Side {
    Customer,
    Agent,
}

/// The `seq` of the last message each side has seen (0: none yet); drives "Seen".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadUpTo {
    pub customer: Seq,
    pub agent: Seq,
}

/// A conversation as a write names it: with its merchant, so that a write aimed at another
/// merchant's conversation matches no row and changes nothing.
#[derive(Debug, Clone, Copy)]
pub struct ChatRef<'a> {
    pub merchant: &'a MerchantId,
    pub id: &'a ConversationId,
}

/// A message to store; the store assigns its sequence number.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub merchant_id: MerchantId,
    pub conversation_id: ConversationId,
    pub client_id: ClientMessageId,
    pub author: Author,
    pub text: String,
    pub now_ms: i64,
    /// The file this message is, stored with it in the same transaction.
    pub file: Option<NewFile>,
}

/// A file to store with its message, within its conversation's limit: refused with
/// [`StoreError::TooManyFiles`] when `most` files were sent since `counted_since_ms` (counted in
/// the transaction that stores it, so uploads at once cannot pass it together).
#[derive(Debug, Clone)]
pub struct NewFile {
    pub file: File,
    pub counted_since_ms: i64,
    pub most: u32,
}

/// A file sent in a chat: what its message shows of it, and its bytes.
#[derive(Debug, Clone)]
pub struct File {
    pub attachment: Attachment,
    pub bytes: Vec<u8>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database is reachable (for `/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Closes every connection, once they are returned (a stopped server leaves the database
    /// file at rest, e.g. for a backup to be put in its place).
    async fn close(&self);
    /// Grows with every change of any merchant's settings (`upsert_merchant`), made by this
    /// server or by a command beside it.
    async fn settings_version(&self) -> Result<i64, StoreError>;

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError>;
    /// Creates the merchant or replaces its name, contact, hours and origins.
    async fn upsert_merchant(&self, merchant: &Merchant) -> Result<(), StoreError>;

    /// Sets the key that signs `Tandem.identify` ids; `false` if there is no such merchant.
    async fn set_identity_secret(&self, merchant: &MerchantId, secret: &str) -> Result<bool, StoreError>;
    /// The merchant's bot flow (JSON), if it has one.
    async fn bot_flow(&self, merchant: &MerchantId) -> Result<Option<String>, StoreError>;
    /// Stores a flow that was validated by the caller; `false` if there is no such merchant.
    async fn set_bot_flow(&self, merchant: &MerchantId, flow_json: &str) -> Result<bool, StoreError>;

    /// Creates the agent or replaces its name, password and staffing (and reactivates it);
    /// refused for an agent of another merchant.
    async fn upsert_agent(&self, agent: &NewAgent) -> Result<(), StoreError>;
    /// Deactivates (or reactivates) an agent of `merchant`; deactivating deletes their sessions
    /// and the invites they made that are still unused.
    /// `false` if the merchant has no such agent.
    async fn set_agent_active(
        &self,
        merchant: &MerchantId,
        agent: AgentId,
        active: bool,
    ) -> Result<bool, StoreError>;
    async fn create_invite(&self, invite: &NewInvite<'_>) -> Result<(), StoreError>;
    /// Uses an unused, unexpired invite to create the agent, in one transaction.
    async fn redeem_invite(
        &self,
        token_hash: &str,
        agent: &NewAgent,
        now_ms: i64,
    ) -> Result<Redeemed, StoreError>;
    /// The merchant and role an invite is for, if it is still usable.
    async fn invite(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(MerchantId, AgentRole)>, StoreError>;
    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError>;
    async fn agent(&self, id: AgentId) -> Result<Option<Agent>, StoreError>;
    /// All agents, or those of one merchant, by email.
    async fn agents(&self, merchant: Option<&MerchantId>) -> Result<Vec<Agent>, StoreError>;

    async fn create_session(
        &self,
        token_hash: &str,
        agent: AgentId,
        expires_at_ms: i64,
    ) -> Result<(), StoreError>;
    /// The agent of an unexpired session.
    async fn session_agent(&self, token_hash: &str, now_ms: i64) -> Result<Option<Agent>, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of the agent (a password reset): their open consoles close within
    /// seconds, on any server sharing the database.
    async fn sign_out_everywhere(&self, agent: AgentId) -> Result<(), StoreError>;
    /// Deletes sessions that expired and invites that expired or were used.
    async fn purge_expired(&self, now_ms: i64) -> Result<(), StoreError>;

    async fn create_conversation(&self, conversation: &NewConversation) -> Result<(), StoreError>;
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError>;
    /// Waiting conversations of a merchant in queue order: returned ones first, then
    /// longest-waiting first.
    async fn queue(&self, merchant: &MerchantId) -> Result<Vec<Conversation>, StoreError>;
    /// Merchants with conversations waiting or active: their dispatch resumes at start.
    async fn merchants_with_open_conversations(&self) -> Result<Vec<MerchantId>, StoreError>;
    /// Active conversations of a merchant, with any agent.
    async fn active_conversations(&self, merchant: &MerchantId) -> Result<Vec<Conversation>, StoreError>;
    /// Conversations of a merchant created in `[from_ms, to_ms)`, oldest first.
    async fn conversations_created(
        &self,
        merchant: &MerchantId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Conversation>, StoreError>;
    /// Active conversations handled by an agent.
    async fn agent_conversations(&self, agent: AgentId) -> Result<Vec<Conversation>, StoreError>;
    // Every write that names a conversation or an agent names its merchant too, and changes
    // nothing when the row is another merchant's.

    /// Gives a waiting conversation to `agent`, both of `merchant`. Atomic: of concurrent
    /// callers exactly one gets `true`; it is `false` when the conversation is no longer waiting.
    async fn accept(&self, chat: ChatRef<'_>, agent: AgentId, now_ms: i64) -> Result<bool, StoreError>;
    /// Puts an active conversation of `agent` back at the front of the queue.
    async fn requeue(&self, chat: ChatRef<'_>, agent: AgentId, now_ms: i64) -> Result<bool, StoreError>;
    /// Ends a conversation that has not ended; `false` if it already had.
    async fn end(&self, chat: ChatRef<'_>, now_ms: i64) -> Result<bool, StoreError>;
    /// The customer has a live connection again (`None`), or has none since `Some(ms)` (an
    /// earlier time it went away is kept).
    async fn customer_away(&self, chat: ChatRef<'_>, since_ms: Option<i64>) -> Result<(), StoreError>;
    /// After a restart no customer is connected: every waiting one counts as away from now.
    async fn all_customers_away(&self, now_ms: i64) -> Result<(), StoreError>;
    /// Waiting conversations whose customer has been away longer than their merchant's
    /// `abandon_after_secs`.
    async fn abandoned(&self, now_ms: i64) -> Result<Vec<(MerchantId, ConversationId)>, StoreError>;

    /// Stores a message with the conversation's next sequence number and returns it; a message
    /// whose (author kind, client id) is already stored is returned as stored, not stored again.
    async fn append_message(&self, message: &NewMessage) -> Result<ChatMessage, StoreError>;
    /// Messages with a sequence number above `after`, in order.
    async fn messages_after(&self, id: &ConversationId, after: Seq) -> Result<Vec<ChatMessage>, StoreError>;
    /// A file sent in the conversation `chat` names, or `None` when it is not one of that
    /// merchant's conversation's files.
    async fn attachment(&self, chat: ChatRef<'_>, id: &str) -> Result<Option<File>, StoreError>;
    /// How many files the conversation holds that were sent since `since_ms`: what its hourly
    /// limit counts (checked as a file is stored, in [`Store::append_message`]; see [`NewFile`]).
    async fn attachments_since(&self, id: &ConversationId, since_ms: i64) -> Result<u32, StoreError>;

    /// Keeps what the page said of itself (JSON text) with a conversation still going on;
    /// `false` for an ended one, or another merchant's.
    async fn set_page_context(&self, chat: ChatRef<'_>, context: &str) -> Result<bool, StoreError>;
    async fn page_context(&self, id: &ConversationId) -> Result<Option<String>, StoreError>;

    /// Adds a webhook to its merchant; [`StoreError::UnknownMerchant`] for one not stored.
    async fn add_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;
    async fn webhooks(&self, merchant: &MerchantId) -> Result<Vec<Webhook>, StoreError>;
    /// `false` when the merchant has no webhook `id`.
    async fn remove_webhook(&self, merchant: &MerchantId, id: &str) -> Result<bool, StoreError>;
    /// Owes `body` (event `event`, id `event_id`) to each of the merchant's webhooks that takes
    /// that event, due now; how many.
    async fn enqueue_deliveries(
        &self,
        merchant: &MerchantId,
        event: &str,
        event_id: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError>;
    /// Takes up to `limit` deliveries that are due and not taken by another instance, for
    /// `lease_ms` (after which another may try them).
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError>;
    async fn record_attempt(&self, id: &str, attempt: &Attempt, now_ms: i64) -> Result<(), StoreError>;
    /// The merchant's deliveries, newest first.
    async fn deliveries(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Queues `mail`, due now; `false` (and nothing queued) when its conversation has
    /// `most_per_conversation` mails already, counted in the same statement.
    async fn enqueue_mail(&self, mail: &NewMail, most_per_conversation: u32) -> Result<bool, StoreError>;
    /// Takes up to `limit` mails that are due and not taken by another instance, for
    /// `lease_ms`; as [`Store::claim_deliveries`] does.
    async fn claim_mails(&self, now_ms: i64, lease_ms: i64, limit: u32) -> Result<Vec<DueMail>, StoreError>;
    /// How sending went; a sent mail keeps only its envelope.
    async fn record_mail_attempt(&self, id: &str, attempt: &Attempt, now_ms: i64) -> Result<(), StoreError>;
    /// The merchant's mails, newest first.
    async fn mails(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<MailRecord>, StoreError>;
    /// The merchant's canned responses, by shortcut.
    async fn canned_responses(&self, merchant: &MerchantId) -> Result<Vec<CannedResponse>, StoreError>;
    /// Adds or replaces (by shortcut) one of the merchant's canned responses; `false` for an
    /// unknown merchant.
    async fn put_canned_response(
        &self,
        merchant: &MerchantId,
        canned: &CannedResponse,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Removes one; `false` if the merchant had none by that shortcut.
    async fn delete_canned_response(&self, merchant: &MerchantId, shortcut: &str)
    -> Result<bool, StoreError>;
    /// Stores an internal note on one of `chat.merchant`'s conversations; a note whose (agent,
    /// client id) is already stored is returned as stored. `None`: not the merchant's.
    async fn add_note(&self, chat: ChatRef<'_>, note: &NewNote) -> Result<Option<Note>, StoreError>;
    /// The conversation's notes, oldest first.
    async fn notes(&self, id: &ConversationId) -> Result<Vec<Note>, StoreError>;
    /// The notes on `merchant`'s conversations created in `[from_ms, to_ms)`, oldest first.
    async fn notes_created(
        &self,
        merchant: &MerchantId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(ConversationId, Note)>, StoreError>;
    /// Records that `by` has seen the conversation up to `seq` (at most its last message; a
    /// lower `seq` than already recorded changes nothing).
    async fn mark_read(&self, chat: ChatRef<'_>, by: Side, seq: Seq) -> Result<(), StoreError>;
    /// How far each side has read the conversation (zeros for an unknown one).
    async fn read_up_to(&self, id: &ConversationId) -> Result<ReadUpTo, StoreError>;
    /// Records the customer's rating of an ended conversation (a second rating replaces the
    /// first); `false` if the conversation has not ended.
    async fn rate(&self, chat: ChatRef<'_>, rating: &Rating) -> Result<bool, StoreError>;

    /// Stores a message left when nobody could answer, returning its id.
    async fn leave_message(
        &self,
        merchant: &MerchantId,
        message: &LeaveMessage,
        now_ms: i64,
    ) -> Result<i64, StoreError>;
    /// A merchant's left messages, newest first.
    async fn left_messages(&self, merchant: &MerchantId) -> Result<Vec<LeftMessage>, StoreError>;

    // Data duties: retention, a customer's records, the audit log.

    /// Deletes what each merchant's `retain_days` no longer keeps: conversations that are over
    /// and were created longer ago (their messages with them), and older left messages. Open
    /// conversations are never deleted. How many conversations and left messages went.
    async fn purge_retained(&self, now_ms: i64) -> Result<(u64, u64), StoreError>;
    /// The merchant's conversations whose customer email is `email` (whatever its case),
    /// oldest first.
    async fn conversations_of_customer(
        &self,
        merchant: &MerchantId,
        email: &str,
    ) -> Result<Vec<Conversation>, StoreError>;
    /// The merchant's left messages with this email (whatever its case), oldest first.
    async fn left_messages_of_customer(
        &self,
        merchant: &MerchantId,
        email: &str,
    ) -> Result<Vec<LeftMessage>, StoreError>;
    /// Deletes these conversations of the merchant that are over (their messages with them)
    /// and these left messages of the merchant, in one transaction: how many of each went.
    async fn erase(
        &self,
        merchant: &MerchantId,
        conversations: &[ConversationId],
        left_messages: &[i64],
    ) -> Result<(u64, u64), StoreError>;
    /// Appends to the audit log (which the database keeps append-only).
    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The merchant's newest `limit` audit entries, oldest first.
    async fn audit_log(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
}

/// One line of the audit log: who did what to what, when. It never holds customer text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub merchant: MerchantId,
    /// `agent:<id> <email>`, or `cli` for a command run on the server.
    pub actor: String,
    /// E.g. `conversation.read` (docs/operations.md lists them).
    pub action: String,
    pub subject: String,
}

impl AuditEntry {
    /// An entry for what `agent` did now.
    pub fn by_agent(agent: &Agent, action: &str, subject: impl Into<String>, at_ms: i64) -> Self {
        Self {
            at_ms,
            merchant: agent.merchant_id.clone(),
            actor: format!("agent:{} {}", agent.id, agent.email),
            action: action.to_owned(),
            subject: subject.into(),
        }
    }
}

/// An email as both databases compare it: trimmed, and lower case in all of Unicode.
pub(crate) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a stored email is the customer's, whatever its case. The databases' `lower()` knows
/// only ASCII letters (SQLite always, PostgreSQL under the C locale), so a query narrows with it
/// plus every email with a character outside printable ASCII (SQLite `GLOB '*[^ -~]*'`,
/// PostgreSQL `~ '[^ -~]'`), and this decides.
pub(crate) fn same_email(stored: Option<&str>, key: &str) -> bool {
    stored.is_some_and(|stored| email_key(stored) == key)
}
