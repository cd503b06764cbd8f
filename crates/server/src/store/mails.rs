//! Mail owed (the `mails` outbox): what both databases store and read of it. The statements
//! are written once, with PostgreSQL's `$n` placeholders; SQLite reads them as `?n`.

use tandem_protocol::{ConversationId, MerchantId};

/// A mail to queue (see [`super::Store::enqueue_mail`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub id: String,
    pub merchant_id: MerchantId,
    /// A transcript's conversation, whose mails are counted and which the mail goes with.
    pub conversation_id: Option<ConversationId>,
    /// The message left it tells of, which the mail goes with (retention, erasure).
    pub left_message_id: Option<i64>,
    /// `message_left` or `transcript`.
    pub kind: &'static str,
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub now_ms: i64,
}

/// A mail an instance took to send now (see [`super::Store::claim_mails`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMail {
    pub id: String,
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Attempts before this one.
    pub attempts: u32,
    pub created_at_ms: i64,
}

/// A mail as `tandem merchant mails` lists it: its envelope, never its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRecord {
    pub id: String,
    pub kind: String,
    pub to: String,
    pub attempts: u32,
    pub created_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    pub given_up: bool,
    pub last_error: Option<String>,
}

/// Queues a mail unless its conversation has `$12` already (a mail of no conversation always).
pub(super) const INSERT: &str =
    "INSERT INTO mails (id, merchant_id, conversation_id, kind, to_address, reply_to,
         subject, text_body, html_body, created_at_ms, next_attempt_at_ms, left_message_id)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13
     WHERE $3 IS NULL OR (SELECT COUNT(*) FROM mails WHERE conversation_id = $3) < $12";

/// Marks the due mails (`$3` is now) as claimed by `$2` until `$1`, at most `$4` of them; the
/// caller adds PostgreSQL's row locking after the limit.
pub(super) const CLAIM: &str = "UPDATE mails SET claimed_until_ms = $1, claim = $2 WHERE id IN (
         SELECT id FROM mails WHERE sent_at_ms IS NULL AND NOT given_up
         AND next_attempt_at_ms <= $3 AND claimed_until_ms <= $3
         ORDER BY next_attempt_at_ms LIMIT $4";

pub(super) const CLAIMED: &str = "SELECT id, to_address, reply_to, subject, text_body, html_body, attempts,
         created_at_ms FROM mails WHERE claim = $1";
pub(super) type DueRow = (String, String, Option<String>, String, String, String, i64, i64);

/// Sent: the bodies are dropped, the envelope stays for the log.
pub(super) const SENT: &str = "UPDATE mails SET attempts = attempts + 1, sent_at_ms = $1, claim = NULL,
         claimed_until_ms = 0, last_error = NULL, text_body = '', html_body = '' WHERE id = $2";
pub(super) const FAILED: &str =
    "UPDATE mails SET attempts = attempts + 1, next_attempt_at_ms = $1, given_up = $2,
         claim = NULL, claimed_until_ms = 0, last_error = $3 WHERE id = $4";

pub(super) const LIST: &str =
    "SELECT id, kind, to_address, attempts, created_at_ms, sent_at_ms, given_up, last_error
     FROM mails WHERE merchant_id = $1 ORDER BY created_at_ms DESC, id DESC LIMIT $2";
pub(super) type RecordRow = (String, String, String, i64, i64, Option<i64>, bool, Option<String>);

pub(super) fn due((id, to, reply_to, subject, text, html, attempts, created_at_ms): DueRow) -> DueMail {
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    DueMail { id, to, reply_to, subject, text, html, attempts, created_at_ms }
}

pub(super) fn record(row: RecordRow) -> MailRecord {
    let (id, kind, to, attempts, created_at_ms, sent_at_ms, given_up, last_error) = row;
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    MailRecord { id, kind, to, attempts, created_at_ms, sent_at_ms, given_up, last_error }
}

/// A statement of this module as SQLite numbers its placeholders.
pub(super) fn for_sqlite(statement: &str) -> String {
    statement.replace('$', "?")
}
