//! Housekeeping on a timer, so that memory and tables hold what is current rather than all
//! that was ever seen: rate-limit keys whose budget is whole again, hub channels nobody listens
//! to any more, expired sign-in sessions and spent invites, and conversations and left messages
//! older than their merchant keeps them; and merchants' settings changed beside the server,
//! taken up within a second.

use std::time::Duration;

use crate::AppState;
use crate::live::now_ms;

const EVERY: Duration = Duration::from_secs(60);
/// How often the settings version is read (one row).
const SETTINGS_EVERY: Duration = Duration::from_secs(1);

/// Runs [`once`] every minute, the abandonment sweep every `live_timing.sweep_every`, and
/// follows settings changes every second (and at once when PostgreSQL says they changed),
/// until the server shuts down.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut shutdown = state.shutting_down();
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
        let sweep_every = state.live_timing.sweep_every;
        let mut sweep = tokio::time::interval_at(tokio::time::Instant::now() + sweep_every, sweep_every);
        let mut settings = tokio::time::interval(SETTINGS_EVERY);
        let mut seen = None;
        loop {
            tokio::select! {
                _ = tick.tick() => once(&state).await,
                _ = settings.tick() => seen = follow_settings(&state, seen).await,
                () = state.dispatch.settings_changed.notified() => seen = follow_settings(&state, seen).await,
                _ = sweep.tick() => {
                    if let Err(error) = crate::service::abandon_the_gone(&state).await {
                        tracing::warn!(%error, "could not end abandoned chats; trying again shortly");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    });
}

/// Takes up changed settings when the version moved since `seen`; the version now.
async fn follow_settings(state: &AppState, seen: Option<i64>) -> Option<i64> {
    let now = match state.store.settings_version().await {
        Ok(version) => version,
        Err(error) => {
            tracing::warn!(%error, "could not read the settings version; trying again shortly");
            return seen;
        }
    };
    if seen.is_some_and(|seen| seen != now)
        && let Err(error) = state.dispatch.follow_settings(state).await
    {
        tracing::warn!(%error, "could not take up changed settings; trying again shortly");
        return seen;
    }
    state.metrics.settings_taken_up(now);
    Some(now)
}

pub async fn once(state: &AppState) {
    state.limits.prune();
    state.hub.prune();
    if let Err(error) = state.store.purge_expired(now_ms()).await {
        tracing::warn!(%error, "could not purge expired sessions and invites; trying again in a minute");
    }
    match state.store.purge_retained(now_ms()).await {
        Ok((0, 0)) => {}
        Ok((conversations, left)) => tracing::info!(conversations, left, "deleted past their retention"),
        Err(error) => {
            tracing::warn!(%error, "could not delete data past its retention; trying again in a minute")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tandem_protocol::{ConversationStatus, HandoffReason, MerchantId, StartConversation};

    use super::*;
    use crate::service::{self, Ending};
    use crate::store::{DispatchSettings, Merchant, NewInvite, SqliteStore, Store, WidgetSettings};

    /// Ten thousand customers come and go: the hub, dispatch and the queue hold nothing of them
    /// afterwards, and spent sessions and invites are purged.
    #[tokio::test]
    async fn ten_thousand_conversations_leave_nothing_behind() {
        let store = SqliteStore::in_memory().await.expect("store");
        let merchant = Merchant {
            id: MerchantId::parse("shop").expect("id"),
            display_name: "Shop".into(),
            support_email: None,
            allowed_origins: vec!["https://shop.example".into()],
            business_hours: None,
            settings: WidgetSettings::default(),
            dispatch: DispatchSettings::default(),
            identity_secret: None,
            policies: crate::store::Policies::default(),
        };
        store.upsert_merchant(&merchant).await.expect("merchant");
        let state = AppState::new(Arc::new(store), vec![]);
        for _ in 0..10_000 {
            let request = StartConversation {
                merchant_id: merchant.id.clone(),
                locale: "en".into(),
                page_url: "https://shop.example/cart".into(),
                transcript: vec![],
                reason: HandoffReason::Button,
                escalation: None,
                identity: None,
                email: None,
                skill: None,
            };
            let started = service::start(&state, &merchant, request).await.expect("start");
            let session = state.hub.subscribe(&started.conversation_id);
            let id = started.conversation_id;
            assert!(service::end(&state, &merchant.id, &id, Ending::Ended).await.expect("end"));
            drop(session);
        }
        let (waiting, statuses) = state
            .dispatch
            .read(&state, &merchant.id, |d, now| (d.snapshot(now).waiting, d.queue_statuses(now).len()))
            .await
            .expect("dispatch");
        assert_eq!((waiting, statuses), (0, 0));
        let ended = state.store.conversations_created(&merchant.id, 0, i64::MAX).await.expect("read");
        assert!(ended.len() == 10_000 && ended.iter().all(|c| c.status == ConversationStatus::Ended));
        assert_eq!(state.hub.channels(), 0, "each channel leaves with its last session");

        let (now, token) = (now_ms(), "a".repeat(64));
        let invite = NewInvite {
            token_hash: &token,
            merchant: &merchant.id,
            role: Default::default(),
            created_by: None,
            expires_at_ms: now - 1,
        };
        state.store.create_invite(&invite).await.expect("invite");
        let agent = crate::store::NewAgent {
            merchant_id: merchant.id.clone(),
            email: "anna@shop.example".into(),
            display_name: "Anna".into(),
            password_hash: "unused".into(),
            staffing: crate::store::Staffing::default(),
        };
        state.store.upsert_agent(&agent).await.expect("agent");
        let anna = state.store.agent_by_email("anna@shop.example").await.expect("read").expect("anna");
        state.store.create_session(&token, anna.id, now - 1).await.expect("session");
        once(&state).await;
        assert!(
            state.store.session_agent(&token, 0).await.expect("read").is_none(),
            "the expired session is gone"
        );
        assert_eq!(state.hub.channels(), 0);
        assert_eq!(state.store.invite(&token, 0).await.expect("read"), None, "the expired invite is gone");
    }
}
