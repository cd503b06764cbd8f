//! Runs the dispatcher (`tandem_dispatch`) for every merchant, and carries out what it decides.
//!
//! One [`Dispatcher`] per merchant lives behind a mutex of its own, held only for the
//! synchronous call into it, never across an `.await`: merchants never wait for each other. Its notices are then delivered: offers to the agents'
//! consoles through the hub, returned chats to the database and the customer. A timer task
//! ticks the dispatchers when an offer, a rest or a grace period runs out; every change wakes it
//! so that it sleeps until the new earliest deadline.
//!
//! The database stays the source of truth for who handles what; at start a dispatcher is rebuilt
//! from it for every merchant with open conversations (the grace period of every agent who had
//! chats starts then), and for any other merchant when first touched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tandem_dispatch::{Dispatcher, Millis, Notice};
use tandem_protocol::{MerchantId, OfferEnd};
use tokio::sync::Notify;

use crate::AppState;
use crate::live::{AgentNotice, LiveEvent, now_ms};
use crate::metrics::OfferOutcome;
use crate::store::{ChatRef, StoreError};

#[derive(Default)]
pub struct Dispatch {
    /// The outer lock only finds a merchant's dispatcher; the inner one is that merchant's.
    merchants: Mutex<HashMap<MerchantId, Arc<Mutex<Dispatcher>>>>,
    /// Wakes the timer after a change, so it sleeps until the right deadline.
    wake: Notify,
}

impl Dispatch {
    /// Changes the merchant's dispatcher, then delivers what it decided.
    pub async fn change<R>(
        &self,
        state: &AppState,
        merchant: &MerchantId,
        change: impl FnOnce(&mut Dispatcher, Millis) -> (R, Vec<Notice>),
    ) -> Result<R, StoreError> {
        let dispatcher = self.dispatcher(state, merchant).await?;
        let now = now_ms();
        let (result, notices) = change(&mut dispatcher.lock().unwrap_or_else(|e| e.into_inner()), now);
        self.wake.notify_one();
        deliver(state, merchant, notices).await;
        Ok(result)
    }

    /// Reads the merchant's dispatcher, loading it first if needed.
    pub async fn read<R>(
        &self,
        state: &AppState,
        merchant: &MerchantId,
        read: impl FnOnce(&Dispatcher, Millis) -> R,
    ) -> Result<R, StoreError> {
        let dispatcher = self.dispatcher(state, merchant).await?;
        let result = read(&dispatcher.lock().unwrap_or_else(|e| e.into_inner()), now_ms());
        Ok(result)
    }

    /// The merchant's dispatcher, built from the database the first time.
    async fn dispatcher(
        &self,
        state: &AppState,
        merchant_id: &MerchantId,
    ) -> Result<Arc<Mutex<Dispatcher>>, StoreError> {
        if let Some(found) = self.merchants.lock().unwrap_or_else(|e| e.into_inner()).get(merchant_id) {
            return Ok(found.clone());
        }
        let merchant = state
            .store
            .merchant(merchant_id)
            .await?
            .ok_or_else(|| StoreError::UnknownMerchant(merchant_id.clone()))?;
        let waiting = state.store.queue(merchant_id).await?;
        let active = state.store.active_conversations(merchant_id).await?;
        let mut agents = HashMap::new();
        for conversation in &active {
            if let Some(agent) = conversation.agent_id
                && !agents.contains_key(&agent)
                && let Some(found) = state.store.agent(agent).await?
            {
                agents.insert(agent, found.dispatch_profile());
            }
        }
        let now = now_ms();
        let mut dispatcher = Dispatcher::new(merchant.dispatch.rules());
        for conversation in waiting {
            let need = conversation.need();
            let _ = dispatcher.restore_waiting(
                conversation.id,
                need,
                conversation.queued_at_ms,
                conversation.front,
                now,
            );
        }
        for conversation in active {
            let Some(profile) = conversation.agent_id.and_then(|agent| agents.get(&agent)) else { continue };
            let accepted_at = conversation.accepted_at_ms.unwrap_or(now);
            let need = conversation.need();
            let _ = dispatcher.restore_active(conversation.id, need, profile.clone(), accepted_at, now);
        }
        // Another request may have built it meanwhile, from the same rows: the first one stays.
        let found = {
            let mut merchants = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
            merchants.entry(merchant_id.clone()).or_insert_with(|| Arc::new(Mutex::new(dispatcher))).clone()
        };
        self.wake.notify_one();
        Ok(found)
    }

    /// Takes up the merchants' current rules (after a change of their settings, which may come
    /// from a command beside the server).
    pub async fn follow_settings(&self, state: &AppState) -> Result<(), StoreError> {
        for (merchant_id, dispatcher) in self.all() {
            if let Some(merchant) = state.store.merchant(&merchant_id).await? {
                dispatcher.lock().unwrap_or_else(|e| e.into_inner()).set_settings(merchant.dispatch.rules());
            }
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Each merchant this instance dispatches, with its waiting customers (for `/metrics`).
    pub fn waiting_by_merchant(&self) -> Vec<(String, usize)> {
        self.all()
            .into_iter()
            .map(|(merchant, dispatcher)| {
                (merchant.to_string(), dispatcher.lock().unwrap_or_else(|e| e.into_inner()).waiting())
            })
            .collect()
    }

    /// Every merchant's dispatcher, to visit one at a time.
    fn all(&self) -> Vec<(MerchantId, Arc<Mutex<Dispatcher>>)> {
        let merchants = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
        merchants.iter().map(|(merchant, dispatcher)| (merchant.clone(), dispatcher.clone())).collect()
    }

    fn next_deadline(&self) -> Option<Millis> {
        let now = now_ms();
        self.all()
            .into_iter()
            .filter_map(|(_, d)| d.lock().unwrap_or_else(|e| e.into_inner()).next_deadline(now))
            .min()
    }

    fn tick_all(&self) -> Vec<(MerchantId, Vec<Notice>)> {
        let now = now_ms();
        self.all()
            .into_iter()
            .map(|(merchant, d)| (merchant, d.lock().unwrap_or_else(|e| e.into_inner()).tick(now)))
            .filter(|(_, notices)| !notices.is_empty())
            .collect()
    }
}

/// Rebuilds dispatch for every merchant with open conversations, so that after a restart the
/// grace periods of agents who had chats start now and waiting customers are offered as soon as
/// an agent is back, whoever arrives first.
pub async fn resume(state: &AppState) {
    let merchants = match state.store.merchants_with_open_conversations().await {
        Ok(merchants) => merchants,
        Err(error) => {
            tracing::error!(%error, "could not resume dispatch; it resumes per merchant on first use");
            return;
        }
    };
    for merchant in merchants {
        if let Err(error) = state.dispatch.read(state, &merchant, |_, _| ()).await {
            tracing::error!(%error, %merchant, "could not resume dispatch for a merchant");
        }
    }
}

/// Ticks the dispatchers at their deadlines until the server shuts down.
pub fn spawn_timer(state: AppState) {
    tokio::spawn(async move {
        let mut shutdown = state.shutting_down();
        loop {
            let sleep = match state.dispatch.next_deadline() {
                Some(at) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = state.dispatch.wake.notified() => continue,
                _ = shutdown.changed() => break,
            }
            for (merchant, notices) in state.dispatch.tick_all() {
                deliver(&state, &merchant, notices).await;
            }
        }
    });
}

/// Tells agents and customers what dispatch decided.
async fn deliver(state: &AppState, merchant: &MerchantId, notices: Vec<Notice>) {
    for notice in notices {
        match notice {
            Notice::Offered { agent, conversation, expires_at } => {
                state.metrics.offer(OfferOutcome::Made);
                state
                    .hub
                    .notify_agent(agent, AgentNotice::Offered { conversation, expires_at_ms: expires_at });
            }
            Notice::OfferWithdrawn { agent, conversation } => {
                let reason = OfferEnd::Withdrawn;
                state.hub.notify_agent(agent, AgentNotice::OfferEnded { conversation, reason });
            }
            Notice::OfferExpired { agent, conversation } => {
                state.metrics.offer(OfferOutcome::Expired);
                let reason = OfferEnd::Expired;
                state.hub.notify_agent(agent, AgentNotice::OfferEnded { conversation, reason });
            }
            Notice::WentAway { agent } => state.hub.notify_agent(agent, AgentNotice::WentAway),
            Notice::ReturnedToQueue { agent, conversation } => {
                // Recorded before anyone can accept it; a failed write is retried, as an agent's
                // accept of it would fail until it is recorded.
                for attempt in 1..=3 {
                    match state.store.requeue(ChatRef { merchant, id: &conversation }, agent, now_ms()).await
                    {
                        Ok(_) => break,
                        Err(error) => {
                            tracing::error!(%error, %conversation, attempt, "could not return a chat to the queue");
                            tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                        }
                    }
                }
                let name = match state.store.agent(agent).await {
                    Ok(Some(agent)) => agent.display_name,
                    _ => String::new(),
                };
                state.hub.publish(&conversation, LiveEvent::AgentLeft { name });
                state.hub.notify_agent(agent, AgentNotice::ChatReturned { conversation });
            }
        }
    }
    // Positions, estimates and the agents' queue lists follow every change.
    state.queues.changed(state, merchant);
}
