//! The audit log: one entry for each admin action, export and conversation read by an agent,
//! and each administration command (docs/operations.md, Audit log). The database keeps it
//! append-only; an action whose entry cannot be written fails with it.

use crate::AppState;
use crate::live::now_ms;
use crate::store::{Agent, AuditEntry, StoreError};

/// What the log records; the names are the documented ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignedIn,
    Invited,
    Joined,
    Deactivated,
    ConversationsExported,
    ConversationRead,
    LeftMessagesRead,
    MerchantSaved,
    AgentSaved,
    IdentitySecretRotated,
    BotFlowSet,
    CustomerExported,
    CustomerErased,
    CannedResponseSaved,
    CannedResponseRemoved,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "agent.signed_in",
            Self::Invited => "agent.invited",
            Self::Joined => "agent.joined",
            Self::Deactivated => "agent.deactivated",
            Self::ConversationsExported => "conversations.exported",
            Self::ConversationRead => "conversation.read",
            Self::LeftMessagesRead => "left_messages.read",
            Self::MerchantSaved => "merchant.saved",
            Self::AgentSaved => "agent.saved",
            Self::IdentitySecretRotated => "identity_secret.rotated",
            Self::BotFlowSet => "bot_flow.set",
            Self::CustomerExported => "customer.exported",
            Self::CustomerErased => "customer.erased",
            Self::CannedResponseSaved => "canned_response.saved",
            Self::CannedResponseRemoved => "canned_response.removed",
        }
    }
}

/// Records what `agent` just did.
pub async fn record(
    state: &AppState,
    agent: &Agent,
    action: Action,
    subject: impl Into<String>,
) -> Result<(), StoreError> {
    state.store.audit(&AuditEntry::by_agent(agent, action.as_str(), subject, now_ms())).await
}

/// Records an administration command run on the server (the actor is `cli`).
pub async fn record_command(
    store: &dyn crate::store::Store,
    merchant: &tandem_protocol::MerchantId,
    action: Action,
    subject: impl Into<String>,
) -> Result<(), StoreError> {
    let entry = AuditEntry {
        at_ms: now_ms(),
        merchant: merchant.clone(),
        actor: "cli".into(),
        action: action.as_str().into(),
        subject: subject.into(),
    };
    store.audit(&entry).await
}
