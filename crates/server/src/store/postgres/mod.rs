//! The store on PostgreSQL: the same contract as SQLite's (the store suite runs on both), for a
//! database that several servers can share.

mod rows;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgPoolOptions};
use sqlx::query::{Query, QueryAs};
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool, Postgres};
use tandem_protocol::{
    CannedResponse, ChatMessage, ConversationId, EscalationReason, LeaveMessage, LeftMessage, MerchantId,
    Note, Rating, Seq,
};

use super::mails::{self, DueMail, MailRecord, NewMail};
use super::{
    Agent, AgentId, AgentRole, AuditEntry, CANNED_COLUMNS, CannedRow, ChatRef, Conversation, File, FileRow,
    Merchant, NOTE_COLUMNS, NewAgent, NewConversation, NewFile, NewInvite, NewMessage, NewNote, NoteRow,
    ReadUpTo, Redeemed, Side, Store, StoreError, email_key, file, same_email,
};
use super::{
    Attempt, DELIVERY_COLUMNS, DUE_COLUMNS, DeliveryRecord, DeliveryRow, DueDelivery, DueRow,
    WEBHOOK_COLUMNS, Webhook, WebhookRow, delivery, due, webhook,
};
use rows::{
    AGENT_COLUMNS, AgentRow, ConversationRow, LEFT_MESSAGE_COLUMNS, LeftMessageRow, MERCHANT_COLUMNS,
    MESSAGE_COLUMNS, MerchantRow, MessageRow, author_columns, corrupt, select_conversations,
};

/// A shared PostgreSQL database: several servers can use one, each with a pool of its own.
///
/// Transactions run at PostgreSQL's default READ COMMITTED isolation: compare-and-set writes
/// (`accept`, `redeem_invite`) rely on an `UPDATE` re-checking its condition on the row it
/// waited for, and the writes that read before they write lock what they read first.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// The advisory lock every agent write holds (`upsert_agent`, `redeem_invite`): each checks who
/// has an email and then writes it, and two of them at once must not both find it free (or
/// both find it their merchant's). Agent writes are rare and quick, so one lock serializes them.
const AGENT_WRITES_LOCK: i64 = 0x7461_6e64_656d_0001;

impl PgStore {
    /// Connects to `url` (postgres://…) and applies the embedded migrations.
    ///
    /// Servers starting together apply them once: the migrator holds an advisory lock while it
    /// runs.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // A server out of reach is said within seconds, at start and when a query waits.
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations-postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes every connection, once they are returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool itself, for tests that check what the database refuses.
    #[cfg(test)]
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A new, empty database beside the one `base` names (`postgres://…/postgres?…`, on a server
/// where its user may create databases): its URL. For tests, each of which wants its own.
pub async fn scratch_database(base: &str) -> Result<String, StoreError> {
    let name = format!("scratch_{}", crate::tokens::new_id());
    let admin = PgPool::connect(base).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await?;
    admin.close().await;
    Ok(base.replacen("/postgres?", &format!("/{name}?"), 1))
}

#[async_trait]
impl Store for PgStore {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn settings_version(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT version FROM settings_version").fetch_one(&self.pool).await?)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        let row: Option<MerchantRow> = sqlx::query_as(&format!("{MERCHANT_COLUMNS} WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        // Byte order, whatever the database's collation: the same list in the same order as
        // everywhere else.
        let allowed_origins = sqlx::query_scalar(
            "SELECT origin FROM merchant_origins WHERE merchant_id = $1 ORDER BY origin COLLATE \"C\"",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        row.into_merchant(id.clone(), allowed_origins).map(Some)
    }

    async fn upsert_merchant(&self, merchant: &Merchant) -> Result<(), StoreError> {
        // One transaction: a reader never sees the merchant with half its origins. The upsert
        // locks the merchant's row, so concurrent upserts of one merchant follow each other.
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO merchants (id, display_name, support_email, business_hours, locale, ask_email,
                                    reply_within_hours, offer_timeout_secs, missed_offers_before_away,
                                    grace_secs, abandon_after_secs, max_waiting, identity_max_age_secs,
                                    retain_days)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                                            abandon_after_secs = excluded.abandon_after_secs,
                                            max_waiting = excluded.max_waiting,
                                            identity_max_age_secs = excluded.identity_max_age_secs,
                                            retain_days = excluded.retain_days,
                                            offer_timeout_secs = excluded.offer_timeout_secs,
                                            missed_offers_before_away = excluded.missed_offers_before_away,
                                            grace_secs = excluded.grace_secs,
                                            support_email = excluded.support_email,
                                            business_hours = excluded.business_hours,
                                            locale = excluded.locale,
                                            ask_email = excluded.ask_email,
                                            reply_within_hours = excluded.reply_within_hours",
        )
        .bind(merchant.id.as_str())
        .bind(&merchant.display_name)
        .bind(&merchant.support_email)
        .bind(&merchant.business_hours)
        .bind(&merchant.settings.locale)
        .bind(merchant.settings.ask_email.as_str())
        .bind(i64::from(merchant.settings.reply_within_hours))
        .bind(i64::from(merchant.dispatch.offer_timeout_secs))
        .bind(i64::from(merchant.dispatch.missed_offers_before_away))
        .bind(i64::from(merchant.dispatch.grace_secs))
        .bind(i64::from(merchant.policies.abandon_after_secs))
        .bind(i64::from(merchant.policies.max_waiting))
        .bind(i64::from(merchant.policies.identity_max_age_secs))
        .bind(i64::from(merchant.policies.retain_days))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM merchant_origins WHERE merchant_id = $1")
            .bind(merchant.id.as_str())
            .execute(&mut *tx)
            .await?;
        for origin in &merchant.allowed_origins {
            sqlx::query(
                "INSERT INTO merchant_origins (merchant_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(merchant.id.as_str())
            .bind(origin)
            .execute(&mut *tx)
            .await?;
        }
        // Running servers follow this to take the change up (see `crate::dispatch`).
        sqlx::query("UPDATE settings_version SET version = version + 1").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn upsert_agent(&self, agent: &NewAgent) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_agent_writes(&mut *tx).await?;
        let existing: Option<(AgentId, String)> =
            sqlx::query_as("SELECT id, merchant_id FROM agents WHERE email = $1")
                .bind(email_key(&agent.email))
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((_, merchant)) = existing.filter(|(_, merchant)| merchant != agent.merchant_id.as_str()) {
            let merchant = rows::merchant_id(&merchant)?;
            return Err(StoreError::AgentOfAnotherMerchant { email: email_key(&agent.email), merchant });
        }
        if write_agent(&mut *tx, agent).await?.is_none() {
            return Err(StoreError::UnknownMerchant(agent.merchant_id.clone()));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_identity_secret(&self, merchant: &MerchantId, secret: &str) -> Result<bool, StoreError> {
        self.changed_one(
            sqlx::query("UPDATE merchants SET identity_secret = $1 WHERE id = $2")
                .bind(secret)
                .bind(merchant.as_str()),
        )
        .await
    }

    async fn set_agent_active(
        &self,
        merchant: &MerchantId,
        agent: AgentId,
        active: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("UPDATE agents SET active = $1 WHERE id = $2 AND merchant_id = $3")
            .bind(active)
            .bind(agent)
            .bind(merchant.as_str())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() != 1 {
            // Not an agent of this merchant: nothing of theirs is touched.
            return Ok(false);
        }
        if !active {
            sqlx::query("DELETE FROM agent_sessions WHERE agent_id = $1")
                .bind(agent)
                .execute(&mut *tx)
                .await?;
            // Invites they made but nobody used would let them back in under another email.
            sqlx::query("DELETE FROM invites WHERE created_by = $1 AND used_at_ms IS NULL")
                .bind(agent)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn create_invite(&self, invite: &NewInvite<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invites (token_hash, merchant_id, role, created_by, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(invite.token_hash)
        .bind(invite.merchant.as_str())
        .bind(invite.role.as_str())
        .bind(invite.created_by)
        .bind(invite.expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn invite(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(MerchantId, AgentRole)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT merchant_id, role FROM invites
             WHERE token_hash = $1 AND used_at_ms IS NULL AND expires_at_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some((merchant, role)) = row else { return Ok(None) };
        Ok(Some((rows::merchant_id(&merchant)?, role.parse().map_err(corrupt)?)))
    }

    async fn redeem_invite(
        &self,
        token_hash: &str,
        agent: &NewAgent,
        now_ms: i64,
    ) -> Result<Redeemed, StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_agent_writes(&mut *tx).await?;
        // Marking it used first makes the invite single-use even when two people race for it:
        // the second UPDATE waits for the first and then finds it used.
        let used = sqlx::query(
            "UPDATE invites SET used_at_ms = $1
             WHERE token_hash = $2 AND merchant_id = $3 AND used_at_ms IS NULL AND expires_at_ms > $1",
        )
        .bind(now_ms)
        .bind(token_hash)
        .bind(agent.merchant_id.as_str())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(Redeemed::InvalidInvite);
        }
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM agents WHERE email = $1")
            .bind(email_key(&agent.email))
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            // Rolled back: the invite stays usable with another email.
            return Ok(Redeemed::EmailTaken);
        }
        let Some(id) = write_agent(&mut *tx, agent).await? else {
            return Err(StoreError::UnknownMerchant(agent.merchant_id.clone()));
        };
        tx.commit().await?;
        Ok(Redeemed::Agent(id))
    }

    async fn canned_responses(&self, merchant: &MerchantId) -> Result<Vec<CannedResponse>, StoreError> {
        let sql = format!("{CANNED_COLUMNS} WHERE merchant_id = $1 ORDER BY shortcut");
        let rows: Vec<CannedRow> = sqlx::query_as(&sql).bind(merchant.as_str()).fetch_all(&self.pool).await?;
        rows.into_iter().map(super::canned).collect()
    }

    async fn put_canned_response(
        &self,
        merchant: &MerchantId,
        canned: &CannedResponse,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let stored = sqlx::query(
            "INSERT INTO canned_responses (merchant_id, shortcut, title, texts, updated_at_ms)
             SELECT id, $2, $3, $4, $5 FROM merchants WHERE id = $1
             ON CONFLICT (merchant_id, shortcut) DO UPDATE
             SET title = excluded.title, texts = excluded.texts, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(merchant.as_str())
        .bind(&canned.shortcut)
        .bind(&canned.title)
        .bind(super::canned_texts(canned))
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(stored.rows_affected() == 1)
    }

    async fn delete_canned_response(
        &self,
        merchant: &MerchantId,
        shortcut: &str,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM canned_responses WHERE merchant_id = $1 AND shortcut = $2")
            .bind(merchant.as_str())
            .bind(shortcut)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn add_note(&self, chat: ChatRef<'_>, note: &NewNote) -> Result<Option<Note>, StoreError> {
        sqlx::query(
            "INSERT INTO notes (conversation_id, agent_id, author_name, client_id, text, created_at_ms)
             SELECT id, $1, $2, $3, $4, $5 FROM conversations WHERE id = $6 AND merchant_id = $7
             ON CONFLICT (conversation_id, agent_id, client_id) DO NOTHING",
        )
        .bind(note.agent)
        .bind(&note.author_name)
        .bind(&note.client_id.0)
        .bind(&note.text)
        .bind(note.now_ms)
        .bind(&chat.id.0)
        .bind(chat.merchant.as_str())
        .execute(&self.pool)
        .await?;
        let sql =
            format!("{NOTE_COLUMNS} WHERE n.conversation_id = $1 AND n.agent_id = $2 AND n.client_id = $3");
        let row: Option<NoteRow> = sqlx::query_as(&sql)
            .bind(&chat.id.0)
            .bind(note.agent)
            .bind(&note.client_id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| super::note(row).1))
    }

    async fn notes(&self, id: &ConversationId) -> Result<Vec<Note>, StoreError> {
        let sql = format!("{NOTE_COLUMNS} WHERE n.conversation_id = $1 ORDER BY n.id");
        let rows: Vec<NoteRow> = sqlx::query_as(&sql).bind(&id.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|row| super::note(row).1).collect())
    }

    async fn notes_created(
        &self,
        merchant: &MerchantId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(ConversationId, Note)>, StoreError> {
        let sql = format!(
            "{NOTE_COLUMNS} JOIN conversations c ON c.id = n.conversation_id
             WHERE c.merchant_id = $1 AND c.created_at_ms >= $2 AND c.created_at_ms < $3 ORDER BY n.id"
        );
        let rows: Vec<NoteRow> = sqlx::query_as(&sql)
            .bind(merchant.as_str())
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(super::note).collect())
    }

    async fn mark_read(&self, chat: ChatRef<'_>, by: Side, seq: Seq) -> Result<(), StoreError> {
        let column = match by {
            Side::Customer => "customer_read_seq",
            Side::Agent => "agent_read_seq",
        };
        let sql = format!(
            "UPDATE conversations SET {column} = GREATEST({column}, LEAST($1, last_seq)) WHERE id = $2 AND merchant_id = $3"
        );
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        sqlx::query(&sql).bind(seq).bind(&chat.id.0).bind(chat.merchant.as_str()).execute(&self.pool).await?;
        Ok(())
    }

    async fn read_up_to(&self, id: &ConversationId) -> Result<ReadUpTo, StoreError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT customer_read_seq, agent_read_seq FROM conversations WHERE id = $1")
                .bind(&id.0)
                .fetch_optional(&self.pool)
                .await?;
        let (customer, agent) = row.unwrap_or_default();
        Ok(ReadUpTo {
            customer: u64::try_from(customer).unwrap_or(0),
            agent: u64::try_from(agent).unwrap_or(0),
        })
    }

    async fn rate(&self, chat: ChatRef<'_>, rating: &Rating) -> Result<bool, StoreError> {
        self.changed_one(
            sqlx::query(
                "UPDATE conversations SET rating = $1, rating_comment = $2
                 WHERE id = $3 AND merchant_id = $4 AND status = 'ended'",
            )
            .bind(i64::from(rating.score))
            .bind(&rating.comment)
            .bind(&chat.id.0)
            .bind(chat.merchant.as_str()),
        )
        .await
    }

    async fn leave_message(
        &self,
        merchant: &MerchantId,
        message: &LeaveMessage,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO left_messages (merchant_id, email, text, locale, page_url, transcript, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             RETURNING id",
        )
        .bind(merchant.as_str())
        .bind(&message.email)
        .bind(&message.text)
        .bind(&message.locale)
        .bind(&message.page_url)
        .bind(Json(&message.transcript))
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn left_messages(&self, merchant: &MerchantId) -> Result<Vec<LeftMessage>, StoreError> {
        let rows: Vec<LeftMessageRow> = sqlx::query_as(&format!(
            "{LEFT_MESSAGE_COLUMNS} WHERE merchant_id = $1 ORDER BY created_at_ms DESC, id DESC"
        ))
        .bind(merchant.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(LeftMessage::from).collect())
    }

    async fn bot_flow(&self, merchant: &MerchantId) -> Result<Option<String>, StoreError> {
        let flow: Option<Option<String>> = sqlx::query_scalar("SELECT bot_flow FROM merchants WHERE id = $1")
            .bind(merchant.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(flow.flatten())
    }

    async fn set_bot_flow(&self, merchant: &MerchantId, flow_json: &str) -> Result<bool, StoreError> {
        self.changed_one(
            sqlx::query("UPDATE merchants SET bot_flow = $1 WHERE id = $2")
                .bind(flow_json)
                .bind(merchant.as_str()),
        )
        .await
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError> {
        let row: Option<AgentRow> = sqlx::query_as(&format!("{AGENT_COLUMNS} WHERE email = $1"))
            .bind(email_key(email))
            .fetch_optional(&self.pool)
            .await?;
        row.map(Agent::try_from).transpose()
    }

    async fn agent(&self, id: AgentId) -> Result<Option<Agent>, StoreError> {
        let row: Option<AgentRow> = sqlx::query_as(&format!("{AGENT_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Agent::try_from).transpose()
    }

    async fn agents(&self, merchant: Option<&MerchantId>) -> Result<Vec<Agent>, StoreError> {
        // By email in byte order, whatever the database's collation.
        let rows: Vec<AgentRow> = sqlx::query_as(&format!(
            "{AGENT_COLUMNS} WHERE $1::TEXT IS NULL OR merchant_id = $1 ORDER BY email COLLATE \"C\""
        ))
        .bind(merchant.map(MerchantId::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Agent::try_from).collect()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        agent: AgentId,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO agent_sessions (token_hash, agent_id, expires_at_ms) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(agent)
            .bind(expires_at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_agent(&self, token_hash: &str, now_ms: i64) -> Result<Option<Agent>, StoreError> {
        let row: Option<AgentRow> = sqlx::query_as(&format!(
            "{AGENT_COLUMNS} WHERE active
             AND id = (SELECT agent_id FROM agent_sessions WHERE token_hash = $1 AND expires_at_ms > $2)"
        ))
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Agent::try_from).transpose()
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM agent_sessions WHERE expires_at_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM invites WHERE expires_at_ms <= $1 OR used_at_ms IS NOT NULL")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sign_out_everywhere(&self, agent: AgentId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM agent_sessions WHERE agent_id = $1").bind(agent).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM agent_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_conversation(&self, conversation: &NewConversation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversations (id, merchant_id, token_hash, status, locale, page_url, reason, escalation,
                                        transcript, created_at_ms, queued_at_ms, customer_id, customer_email,
                                        customer_name, skill, customer_away_since_ms, customer_email_signed)
             VALUES ($1, $2, $3, 'waiting', $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $9, $14)",
        )
        .bind(&conversation.id.0)
        .bind(conversation.merchant_id.as_str())
        .bind(&conversation.token_hash)
        .bind(&conversation.locale)
        .bind(&conversation.page_url)
        .bind(conversation.reason.as_str())
        .bind(conversation.escalation.map(EscalationReason::as_str))
        .bind(Json(&conversation.transcript))
        // Created, queued, and away until its page connects (a handoff nobody connects to is
        // abandoned in time): all now.
        .bind(conversation.now_ms)
        // Only a verified identity's id is kept: an unverified one could be anybody's.
        .bind(conversation.customer.id.as_ref().filter(|_| conversation.customer.verified))
        .bind(&conversation.customer.email)
        .bind(&conversation.customer.name)
        .bind(&conversation.skill)
        .bind(conversation.customer.verified && conversation.customer.email_verified)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        let query = sqlx::query_as(select_conversations!("WHERE id = $1")).bind(&id.0);
        Ok(self.conversations(query).await?.pop())
    }

    async fn queue(&self, merchant: &MerchantId) -> Result<Vec<Conversation>, StoreError> {
        let query = sqlx::query_as(select_conversations!(
            "WHERE merchant_id = $1 AND status = 'waiting' ORDER BY front DESC, queued_at_ms, ord"
        ));
        self.conversations(query.bind(merchant.as_str())).await
    }

    async fn merchants_with_open_conversations(&self) -> Result<Vec<MerchantId>, StoreError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT merchant_id FROM conversations WHERE status != 'ended'")
                .fetch_all(&self.pool)
                .await?;
        ids.iter().map(|id| rows::merchant_id(id)).collect()
    }

    async fn active_conversations(&self, merchant: &MerchantId) -> Result<Vec<Conversation>, StoreError> {
        let query = sqlx::query_as(select_conversations!(
            "WHERE merchant_id = $1 AND status = 'active' ORDER BY accepted_at_ms, ord"
        ));
        self.conversations(query.bind(merchant.as_str())).await
    }

    async fn conversations_created(
        &self,
        merchant: &MerchantId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Conversation>, StoreError> {
        let query = sqlx::query_as(select_conversations!(
            "WHERE merchant_id = $1 AND created_at_ms >= $2 AND created_at_ms < $3 ORDER BY created_at_ms, ord"
        ));
        self.conversations(query.bind(merchant.as_str()).bind(from_ms).bind(to_ms)).await
    }

    async fn agent_conversations(&self, agent: AgentId) -> Result<Vec<Conversation>, StoreError> {
        let query = sqlx::query_as(select_conversations!(
            "WHERE agent_id = $1 AND status = 'active' ORDER BY queued_at_ms, ord"
        ));
        self.conversations(query.bind(agent)).await
    }

    async fn accept(&self, chat: ChatRef<'_>, agent: AgentId, now_ms: i64) -> Result<bool, StoreError> {
        // The status condition makes this a compare-and-set: concurrent UPDATEs of the row wait
        // for the first, then re-check it and find it no longer waiting.
        self.changed_one(
            sqlx::query(
                "UPDATE conversations SET status = 'active', agent_id = $1, accepted_at_ms = $2,
                                          front = FALSE, answered_at_ms = COALESCE(answered_at_ms, $2)
                 WHERE id = $3 AND merchant_id = $4 AND status = 'waiting'
                   AND $1 IN (SELECT id FROM agents WHERE merchant_id = $4 AND active)",
            )
            .bind(agent)
            .bind(now_ms)
            .bind(&chat.id.0)
            .bind(chat.merchant.as_str()),
        )
        .await
    }

    async fn requeue(&self, chat: ChatRef<'_>, agent: AgentId, now_ms: i64) -> Result<bool, StoreError> {
        self.changed_one(
            sqlx::query(
                "UPDATE conversations SET status = 'waiting', agent_id = NULL, queued_at_ms = $1, front = TRUE
                 WHERE id = $2 AND merchant_id = $3 AND status = 'active' AND agent_id = $4",
            )
            .bind(now_ms)
            .bind(&chat.id.0)
            .bind(chat.merchant.as_str())
            .bind(agent),
        )
        .await
    }

    async fn end(&self, chat: ChatRef<'_>, now_ms: i64) -> Result<bool, StoreError> {
        self.changed_one(
            sqlx::query(
                "UPDATE conversations SET status = 'ended', ended_at_ms = $1
                 WHERE id = $2 AND merchant_id = $3 AND status != 'ended'",
            )
            .bind(now_ms)
            .bind(&chat.id.0)
            .bind(chat.merchant.as_str()),
        )
        .await
    }

    async fn customer_away(&self, chat: ChatRef<'_>, since_ms: Option<i64>) -> Result<(), StoreError> {
        // Back (`NULL`): cleared. Gone: the earlier time it went away is kept.
        sqlx::query(
            "UPDATE conversations
             SET customer_away_since_ms =
                 CASE WHEN $1::BIGINT IS NULL THEN NULL ELSE COALESCE(customer_away_since_ms, $1) END
             WHERE id = $2 AND merchant_id = $3",
        )
        .bind(since_ms)
        .bind(&chat.id.0)
        .bind(chat.merchant.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn all_customers_away(&self, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE conversations SET customer_away_since_ms = $1
             WHERE status = 'waiting' AND customer_away_since_ms IS NULL",
        )
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn abandoned(&self, now_ms: i64) -> Result<Vec<(MerchantId, ConversationId)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.merchant_id, c.id FROM conversations c JOIN merchants m ON m.id = c.merchant_id
             WHERE c.status = 'waiting' AND c.customer_away_since_ms IS NOT NULL
               AND c.customer_away_since_ms + m.abandon_after_secs * 1000 <= $1",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(merchant, id)| {
                let merchant =
                    MerchantId::parse(&merchant).map_err(|_| corrupt(format!("merchant id {merchant:?}")))?;
                Ok((merchant, ConversationId(id)))
            })
            .collect()
    }

    async fn append_message(&self, message: &NewMessage) -> Result<ChatMessage, StoreError> {
        let (kind, name) = author_columns(&message.author);
        let mut tx = self.pool.begin().await?;
        // Lock the conversation's row first: appends to one conversation follow each other, so a
        // retry racing its original finds it stored, and sequence numbers never collide.
        let locked: Option<i64> = sqlx::query_scalar(
            "SELECT last_seq FROM conversations WHERE id = $1 AND merchant_id = $2 FOR UPDATE",
        )
        .bind(&message.conversation_id.0)
        .bind(message.merchant_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if locked.is_none() {
            return Err(StoreError::Corrupt(format!("no conversation {}", message.conversation_id)));
        }
        // A retry of a stored message gets the stored one back, with its original sequence.
        let existing: Option<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_COLUMNS} WHERE conversation_id = $1 AND author_kind = $2 AND client_id = $3"
        ))
        .bind(&message.conversation_id.0)
        .bind(kind)
        .bind(&message.client_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            return row.try_into();
        }
        if let Some(new) = &message.file {
            let sent: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM attachments WHERE conversation_id = $1 AND created_at_ms > $2",
            )
            .bind(&message.conversation_id.0)
            .bind(new.counted_since_ms)
            .fetch_one(&mut *tx)
            .await?;
            if sent >= i64::from(new.most) {
                return Err(StoreError::TooManyFiles);
            }
        }
        let seq: i64 = sqlx::query_scalar(
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
        )
        .bind(&message.conversation_id.0)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO messages (conversation_id, seq, author_kind, author_name, client_id, text, sent_at_ms, attachment)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&message.conversation_id.0)
        .bind(seq)
        .bind(kind)
        .bind(name)
        .bind(&message.client_id.0)
        .bind(&message.text)
        .bind(message.now_ms)
        .bind(message.file.as_ref().map(|new| Json(&new.file.attachment)))
        .execute(&mut *tx)
        .await?;
        if let Some(NewFile { file, .. }) = &message.file {
            sqlx::query(
                "INSERT INTO attachments (id, conversation_id, kind, name, size, bytes, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&file.attachment.id)
            .bind(&message.conversation_id.0)
            .bind(file.attachment.kind.media_type())
            .bind(&file.attachment.name)
            .bind(i64::try_from(file.bytes.len()).unwrap_or(i64::MAX))
            .bind(&file.bytes)
            .bind(message.now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ChatMessage {
            seq: rows::seq(seq)?,
            client_id: message.client_id.clone(),
            author: message.author.clone(),
            text: message.text.clone(),
            sent_at_ms: message.now_ms,
            attachment: message.file.as_ref().map(|new| new.file.attachment.clone()),
        })
    }

    async fn attachment(&self, chat: ChatRef<'_>, id: &str) -> Result<Option<File>, StoreError> {
        let row: Option<FileRow> = sqlx::query_as(
            "SELECT a.id, a.kind, a.name, a.size, a.bytes FROM attachments a
             JOIN conversations c ON c.id = a.conversation_id
             WHERE a.id = $1 AND a.conversation_id = $2 AND c.merchant_id = $3",
        )
        .bind(id)
        .bind(&chat.id.0)
        .bind(chat.merchant.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(file).transpose()
    }

    async fn attachments_since(&self, id: &ConversationId, since_ms: i64) -> Result<u32, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM attachments WHERE conversation_id = $1 AND created_at_ms > $2",
        )
        .bind(&id.0)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn set_page_context(&self, chat: ChatRef<'_>, context: &str) -> Result<bool, StoreError> {
        let set = sqlx::query(
            "UPDATE conversations SET page_context = $1 WHERE id = $2 AND merchant_id = $3 AND status <> 'ended'",
        )
        .bind(context)
        .bind(&chat.id.0)
        .bind(chat.merchant.as_str())
        .execute(&self.pool)
        .await?;
        Ok(set.rows_affected() > 0)
    }

    async fn page_context(&self, id: &ConversationId) -> Result<Option<String>, StoreError> {
        let context: Option<Option<String>> =
            sqlx::query_scalar("SELECT page_context FROM conversations WHERE id = $1")
                .bind(&id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(context.flatten())
    }

    async fn add_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        if self.merchant(&webhook.merchant_id).await?.is_none() {
            return Err(StoreError::UnknownMerchant(webhook.merchant_id.clone()));
        }
        sqlx::query(
            "INSERT INTO webhooks (id, merchant_id, url, secret, events, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&webhook.id)
        .bind(webhook.merchant_id.as_str())
        .bind(&webhook.url)
        .bind(&webhook.secret)
        .bind(webhook.events.join(","))
        .bind(webhook.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn webhooks(&self, merchant: &MerchantId) -> Result<Vec<Webhook>, StoreError> {
        let rows: Vec<WebhookRow> =
            sqlx::query_as(&format!("{WEBHOOK_COLUMNS} WHERE merchant_id = $1 ORDER BY created_at_ms, id"))
                .bind(merchant.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(webhook).collect()
    }

    async fn remove_webhook(&self, merchant: &MerchantId, id: &str) -> Result<bool, StoreError> {
        let removed = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND merchant_id = $2")
            .bind(id)
            .bind(merchant.as_str())
            .execute(&self.pool)
            .await?;
        Ok(removed.rows_affected() > 0)
    }

    async fn enqueue_deliveries(
        &self,
        merchant: &MerchantId,
        event: &str,
        event_id: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let owed = sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event, body, created_at_ms, next_attempt_at_ms)
             SELECT $1 || '-' || id, id, $2, $3, $4, $4 FROM webhooks
             WHERE merchant_id = $5 AND (',' || events || ',') LIKE '%,' || $2 || ',%'",
        )
        .bind(event_id)
        .bind(event)
        .bind(body)
        .bind(now_ms)
        .bind(merchant.as_str())
        .execute(&self.pool)
        .await?;
        Ok(owed.rows_affected())
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let claim = crate::tokens::new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET claimed_until_ms = $1, claim = $2 WHERE id IN (
                 SELECT id FROM webhook_deliveries WHERE delivered_at_ms IS NULL AND NOT given_up
                 AND next_attempt_at_ms <= $3 AND claimed_until_ms <= $3
                 ORDER BY next_attempt_at_ms LIMIT $4 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now_ms + lease_ms)
        .bind(&claim)
        .bind(now_ms)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await?;
        let rows: Vec<DueRow> = sqlx::query_as(&format!("{DUE_COLUMNS} WHERE d.claim = $1"))
            .bind(&claim)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(due).collect())
    }

    async fn record_attempt(&self, id: &str, attempt: &Attempt, now_ms: i64) -> Result<(), StoreError> {
        let query = match attempt {
            Attempt::Delivered => sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at_ms = $1, claim = NULL,
                 claimed_until_ms = 0, last_error = NULL WHERE id = $2",
            )
            .bind(now_ms)
            .bind(id),
            Attempt::Failed { error, retry_at_ms } => sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at_ms = $1, given_up = $2,
                 claim = NULL, claimed_until_ms = 0, last_error = $3 WHERE id = $4",
            )
            .bind(retry_at_ms.unwrap_or(now_ms))
            .bind(retry_at_ms.is_none())
            .bind(error)
            .bind(id),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    async fn deliveries(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<DeliveryRecord>, StoreError> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "{DELIVERY_COLUMNS} WHERE w.merchant_id = $1 ORDER BY d.created_at_ms DESC, d.id DESC LIMIT $2"
        ))
        .bind(merchant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(delivery).collect())
    }

    async fn enqueue_mail(&self, mail: &NewMail, most_per_conversation: u32) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The conversation's row, held until the mail is counted and queued: two requests at
        // once are counted one after the other (SQLite writes one at a time anyway).
        if let Some(id) = &mail.conversation_id {
            sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
                .bind(&id.0)
                .execute(&mut *tx)
                .await?;
        }
        let queued = sqlx::query(mails::INSERT)
            .bind(&mail.id)
            .bind(mail.merchant_id.as_str())
            .bind(mail.conversation_id.as_ref().map(|id| id.0.as_str()))
            .bind(mail.kind)
            .bind(&mail.to)
            .bind(&mail.reply_to)
            .bind(&mail.subject)
            .bind(&mail.text)
            .bind(&mail.html)
            .bind(mail.now_ms)
            .bind(mail.now_ms)
            .bind(i64::from(most_per_conversation))
            .bind(mail.left_message_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(queued.rows_affected() == 1)
    }

    async fn claim_mails(&self, now_ms: i64, lease_ms: i64, limit: u32) -> Result<Vec<DueMail>, StoreError> {
        let claim = crate::tokens::new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!("{} FOR UPDATE SKIP LOCKED)", mails::CLAIM))
            .bind(now_ms + lease_ms)
            .bind(&claim)
            .bind(now_ms)
            .bind(i64::from(limit))
            .execute(&mut *tx)
            .await?;
        let rows: Vec<mails::DueRow> =
            sqlx::query_as(mails::CLAIMED).bind(&claim).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(mails::due).collect())
    }

    async fn record_mail_attempt(&self, id: &str, attempt: &Attempt, now_ms: i64) -> Result<(), StoreError> {
        match attempt {
            Attempt::Delivered => sqlx::query(mails::SENT).bind(now_ms).bind(id).execute(&self.pool).await?,
            Attempt::Failed { error, retry_at_ms } => {
                sqlx::query(mails::FAILED)
                    .bind(retry_at_ms.unwrap_or(now_ms))
                    .bind(retry_at_ms.is_none())
                    .bind(error)
                    .bind(id)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }

    async fn mails(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<MailRecord>, StoreError> {
        let rows: Vec<mails::RecordRow> = sqlx::query_as(mails::LIST)
            .bind(merchant.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(mails::record).collect())
    }

    async fn messages_after(&self, id: &ConversationId, after: Seq) -> Result<Vec<ChatMessage>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_COLUMNS} WHERE conversation_id = $1 AND seq > $2 ORDER BY seq"
        ))
        .bind(&id.0)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ChatMessage::try_from).collect()
    }

    async fn purge_retained(&self, now_ms: i64) -> Result<(u64, u64), StoreError> {
        const DAY_MS: i64 = 86_400_000;
        // Older than their merchant keeps them: conversations once over, left messages always.
        const PURGES: [&str; 2] = [
            "DELETE FROM conversations WHERE status = 'ended' AND created_at_ms <
                 $1 - (SELECT retain_days FROM merchants m WHERE m.id = conversations.merchant_id) * $2",
            "DELETE FROM left_messages WHERE created_at_ms <
                 $1 - (SELECT retain_days FROM merchants m WHERE m.id = left_messages.merchant_id) * $2",
        ];
        let mut tx = self.pool.begin().await?;
        let mut deleted = [0; 2];
        for (sql, count) in PURGES.iter().zip(&mut deleted) {
            *count = sqlx::query(sql).bind(now_ms).bind(DAY_MS).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok((deleted[0], deleted[1]))
    }

    async fn conversations_of_customer(
        &self,
        merchant: &MerchantId,
        email: &str,
    ) -> Result<Vec<Conversation>, StoreError> {
        let key = email_key(email);
        let query = sqlx::query_as(select_conversations!(
            "WHERE merchant_id = $1 AND (lower(customer_email) = $2 OR customer_email ~ '[^ -~]') ORDER BY created_at_ms, ord"
        ));
        let mut found = self.conversations(query.bind(merchant.as_str()).bind(&key)).await?;
        found.retain(|c| same_email(c.customer.email.as_deref(), &key));
        Ok(found)
    }

    async fn left_messages_of_customer(
        &self,
        merchant: &MerchantId,
        email: &str,
    ) -> Result<Vec<LeftMessage>, StoreError> {
        let key = email_key(email);
        let rows: Vec<LeftMessageRow> = sqlx::query_as(&format!(
            "{LEFT_MESSAGE_COLUMNS} WHERE merchant_id = $1 AND (lower(email) = $2 OR email ~ '[^ -~]') ORDER BY created_at_ms, id"
        ))
        .bind(merchant.as_str())
        .bind(&key)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(LeftMessage::from).filter(|m| same_email(Some(&m.email), &key)).collect())
    }

    async fn erase(
        &self,
        merchant: &MerchantId,
        conversations: &[ConversationId],
        left_messages: &[i64],
    ) -> Result<(u64, u64), StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut erased = 0;
        for id in conversations {
            erased += sqlx::query(
                "DELETE FROM conversations WHERE id = $1 AND merchant_id = $2 AND status = 'ended'",
            )
            .bind(&id.0)
            .bind(merchant.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let mut left = 0;
        for id in left_messages {
            left += sqlx::query("DELETE FROM left_messages WHERE id = $1 AND merchant_id = $2")
                .bind(id)
                .bind(merchant.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok((erased, left))
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (merchant_id, at_ms, actor, action, subject) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(entry.merchant.as_str())
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.subject)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_log(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT at_ms, actor, action, subject FROM
                 (SELECT id, at_ms, actor, action, subject FROM audit_log WHERE merchant_id = $1
                  ORDER BY id DESC LIMIT $2) AS newest
             ORDER BY id",
        )
        .bind(merchant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at_ms, actor, action, subject)| AuditEntry {
                at_ms,
                merchant: merchant.clone(),
                actor,
                action,
                subject,
            })
            .collect())
    }
}

impl PgStore {
    /// Runs a write meant for one row; whether it changed one (a compare-and-set, or a row of
    /// the caller's merchant, matches or not).
    async fn changed_one<'q>(&self, query: Query<'q, Postgres, PgArguments>) -> Result<bool, StoreError> {
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
    }

    /// Runs a `SELECT` of conversation rows (see [`select_conversations`]).
    async fn conversations<'q>(
        &self,
        query: QueryAs<'q, Postgres, ConversationRow, PgArguments>,
    ) -> Result<Vec<Conversation>, StoreError> {
        query.fetch_all(&self.pool).await?.into_iter().map(Conversation::try_from).collect()
    }
}

/// Takes [`AGENT_WRITES_LOCK`] until the transaction ends.
async fn lock_agent_writes<'e>(db: impl PgExecutor<'e>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AGENT_WRITES_LOCK).execute(db).await?;
    Ok(())
}

/// The one agent insert: creates the agent, or (same email) replaces their name, password and
/// staffing and reactivates them. `None` when there is no such merchant.
async fn write_agent<'e>(db: impl PgExecutor<'e>, agent: &NewAgent) -> Result<Option<AgentId>, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO agents (merchant_id, email, display_name, password_hash, languages, skills, capacity, role)
         SELECT id, $1, $2, $3, $4, $5, $6, $7 FROM merchants WHERE id = $8
         ON CONFLICT (email) DO UPDATE SET merchant_id = excluded.merchant_id, display_name = excluded.display_name,
                                           password_hash = excluded.password_hash, languages = excluded.languages,
                                           skills = excluded.skills, capacity = excluded.capacity,
                                           role = excluded.role, active = TRUE
         RETURNING id",
    )
    .bind(email_key(&agent.email))
    .bind(&agent.display_name)
    .bind(&agent.password_hash)
    .bind(Json(&agent.staffing.languages))
    .bind(Json(&agent.staffing.skills))
    .bind(i64::from(agent.staffing.capacity))
    .bind(agent.staffing.role.as_str())
    .bind(agent.merchant_id.as_str())
    .fetch_optional(db)
    .await?;
    Ok(id)
}
