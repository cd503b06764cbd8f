//! `tandem customer …` and `tandem audit`: a merchant's data duties, straight on the database
//! (docs/operations.md, Personal data).

use clap::{Args, Subcommand};
use serde::Serialize;
use tandem_protocol::{
    ChatMessage, ConversationId, ConversationStatus, CustomerProfile, LeftMessage, MerchantId, Rating,
    TranscriptEntry,
};
use tandem_server::audit::{Action, record_command};
use tandem_server::store::{Conversation, Store};

use crate::DataDir;
use crate::admin::{merchant_id, open};

#[derive(Subcommand)]
pub enum CustomerCommand {
    /// Print, as JSON, every conversation and left message of one customer.
    Export(Whose),
    /// Delete every conversation and left message of one customer (none may still be open).
    Erase(Whose),
}

/// One customer of one merchant: by the email they gave, or by one conversation's id.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("customer").required(true).args(["email", "conversation"])))]
pub struct Whose {
    #[arg(long)]
    merchant: String,
    /// The customer's email (from `Tandem.identify` or typed), whatever its case.
    #[arg(long)]
    email: Option<String>,
    /// One conversation, by the id the console shows.
    #[arg(long)]
    conversation: Option<String>,
    #[command(flatten)]
    data: DataDir,
}

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long)]
    merchant: String,
    /// How many of the newest entries.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
    #[command(flatten)]
    data: DataDir,
}

/// What `tandem customer export` prints.
#[derive(Serialize)]
struct Export {
    merchant: MerchantId,
    conversations: Vec<ExportedConversation>,
    left_messages: Vec<LeftMessage>,
}

#[derive(Serialize)]
struct ExportedConversation {
    conversation_id: ConversationId,
    status: ConversationStatus,
    created_at_ms: i64,
    ended_at_ms: Option<i64>,
    locale: String,
    page_url: String,
    customer: CustomerProfile,
    transcript: Vec<TranscriptEntry>,
    messages: Vec<ChatMessage>,
    rating: Option<Rating>,
}

/// A customer's records, as found.
struct Records {
    merchant: MerchantId,
    conversations: Vec<Conversation>,
    left_messages: Vec<LeftMessage>,
}

pub async fn customer(command: CustomerCommand) -> Result<(), String> {
    match command {
        CustomerCommand::Export(whose) => export(whose).await,
        CustomerCommand::Erase(whose) => erase(whose).await,
    }
}

async fn find(store: &dyn Store, whose: &Whose) -> Result<Records, String> {
    let merchant = merchant_id(&whose.merchant)?;
    let failed = |error: tandem_server::store::StoreError| error.to_string();
    let (conversations, left_messages) = match (&whose.email, &whose.conversation) {
        (Some(email), _) => (
            store.conversations_of_customer(&merchant, email).await.map_err(failed)?,
            store.left_messages_of_customer(&merchant, email).await.map_err(failed)?,
        ),
        (None, Some(raw)) => {
            let id = ConversationId::parse(raw).ok_or_else(|| format!("invalid --conversation {raw:?}"))?;
            let found = store.conversation(&id).await.map_err(failed)?.filter(|c| c.merchant_id == merchant);
            let found = found.ok_or_else(|| format!("merchant {merchant} has no conversation {id}"))?;
            (vec![found], Vec::new())
        }
        (None, None) => return Err("name the customer with --email or --conversation".into()),
    };
    Ok(Records { merchant, conversations, left_messages })
}

async fn export(whose: Whose) -> Result<(), String> {
    let store = open(&whose.data).await?;
    let records = find(store.as_ref(), &whose).await?;
    let mut conversations = Vec::new();
    for c in records.conversations {
        let messages = store.messages_after(&c.id, 0).await.map_err(|error| error.to_string())?;
        conversations.push(ExportedConversation {
            conversation_id: c.id,
            status: c.status,
            created_at_ms: c.created_at_ms,
            ended_at_ms: c.ended_at_ms,
            locale: c.locale,
            page_url: c.page_url,
            customer: c.customer,
            transcript: c.transcript,
            messages,
            rating: c.rating,
        });
    }
    let subject = counted(conversations.len(), records.left_messages.len());
    let export = Export { merchant: records.merchant, conversations, left_messages: records.left_messages };
    let json = serde_json::to_string_pretty(&export).map_err(|error| error.to_string())?;
    record_command(store.as_ref(), &export.merchant, Action::CustomerExported, subject)
        .await
        .map_err(|error| error.to_string())?;
    println!("{json}");
    Ok(())
}

async fn erase(whose: Whose) -> Result<(), String> {
    let store = open(&whose.data).await?;
    let records = find(store.as_ref(), &whose).await?;
    let open_ones: Vec<&str> = records
        .conversations
        .iter()
        .filter(|c| c.status != ConversationStatus::Ended)
        .map(|c| c.id.0.as_str())
        .collect();
    if !open_ones.is_empty() {
        return Err(format!(
            "conversation {} is still open, so nothing was erased; run this again once it has ended (an abandoned or finished chat ends within minutes)",
            open_ones.join(", ")
        ));
    }
    let ids: Vec<ConversationId> = records.conversations.into_iter().map(|c| c.id).collect();
    let (conversations, left) = store
        .erase(&records.merchant, &ids, &records.left_messages.iter().map(|m| m.id).collect::<Vec<_>>())
        .await
        .map_err(|error| error.to_string())?;
    record_command(store.as_ref(), &records.merchant, Action::CustomerErased, counted(conversations, left))
        .await
        .map_err(|error| error.to_string())?;
    println!("erased {}", counted(conversations, left));
    Ok(())
}

/// The audit subject of an export or erasure: counts, never the customer's email (the log
/// outlives the erasure).
fn counted(conversations: impl std::fmt::Display, left_messages: impl std::fmt::Display) -> String {
    format!("{conversations} conversation(s) and {left_messages} left message(s)")
}

pub async fn audit(args: AuditArgs) -> Result<(), String> {
    let merchant = merchant_id(&args.merchant)?;
    let store = open(&args.data).await?;
    let entries = store.audit_log(&merchant, args.limit).await.map_err(|error| error.to_string())?;
    for entry in entries {
        println!("{}\t{}\t{}\t{}", rfc3339(entry.at_ms), entry.actor, entry.action, entry.subject);
    }
    Ok(())
}

/// `2025-12-01T16:02:31.005Z` from milliseconds since the Unix epoch (UTC).
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_764_604_951_005), "2025-12-01T16:02:31.005Z");
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
