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
//!
//! Beside other instances on one PostgreSQL, only the one that leads (`crate::cluster`)
//! dispatches. The others follow: they send each [`Change`] to it and get its [`Answer`], and
//! they answer questions (a customer's place, who is available) from a copy of its dispatchers
//! that it publishes after each change.

mod consoles;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tandem_dispatch::{AgentProfile, Dispatcher, Millis, Need, Notice, Refusal};
use tandem_protocol::{ConversationId, MerchantId, OfferEnd, Presence};
use tokio::sync::Notify;

use crate::AppState;
use crate::live::{AgentNotice, LiveEvent, now_ms};
use crate::metrics::OfferOutcome;
use crate::store::{AgentId, ChatRef, StoreError};

/// A change to a merchant's dispatcher, as data, so that an instance that does not dispatch
/// can send it to the one that does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Change {
    /// A console opened.
    Connect(AgentProfile),
    /// A console closed.
    Disconnect(AgentId),
    /// The agent was deactivated.
    Remove(AgentId),
    SetPresence(AgentId, Presence),
    Decline(AgentId, ConversationId),
    Accept(AgentId, ConversationId),
    Enqueue(ConversationId, Need),
    End(ConversationId),
    /// Back to the bot.
    Release(ConversationId),
    /// The agent's chat back to the front of the queue, or offered to the colleague `to` first
    /// (and to the front of the queue if that colleague is no longer free).
    GiveBack {
        agent: AgentId,
        conversation: ConversationId,
        to: Option<AgentId>,
    },
    /// An instance has `open` consoles of the agent's, who chose `presence` (told to a new
    /// leader, and again whenever the instance may have been forgotten).
    Announce {
        profile: AgentProfile,
        open: u32,
        presence: Presence,
    },
}

/// What a [`Change`] answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    Done,
    /// To a `Connect`: the agent's presence, and the offer open to them.
    Joined {
        presence: Presence,
        offer: Option<(ConversationId, Millis)>,
    },
    /// To an `Accept`.
    Accepted(Result<(), Refusal>),
    /// To an `Enqueue`: the customer's place and estimated wait.
    Queued(Option<(u32, Millis)>),
}

impl Change {
    fn apply(self, d: &mut Dispatcher, now: Millis) -> (Answer, Vec<Notice>) {
        match self {
            Self::Connect(profile) => {
                let id = profile.id;
                let notices = d.connect(profile, now);
                let presence = d.presence(id).unwrap_or(Presence::Online);
                (Answer::Joined { presence, offer: d.offer_of(id) }, notices)
            }
            Self::Disconnect(agent) => (Answer::Done, d.disconnect(agent, now)),
            Self::Remove(agent) => (Answer::Done, d.remove(agent, now)),
            Self::SetPresence(agent, presence) => (Answer::Done, d.set_presence(agent, presence, now)),
            Self::Decline(agent, conversation) => (Answer::Done, d.decline(agent, &conversation, now)),
            Self::Accept(agent, conversation) => {
                let (result, notices) = d.accept(agent, &conversation, now);
                (Answer::Accepted(result), notices)
            }
            Self::Enqueue(conversation, need) => {
                let notices = d.enqueue(conversation.clone(), need, now);
                // One pass over the merchant's queue, for this customer alone.
                (Answer::Queued(d.status_of(&conversation, now)), notices)
            }
            Self::End(conversation) => (Answer::Done, d.end(&conversation, now)),
            Self::Release(conversation) => (Answer::Done, d.release(&conversation, now)),
            Self::GiveBack { agent, conversation, to } => {
                let (result, mut notices) = d.give_back(agent, &conversation, to, now);
                if to.is_some() && result == Err(Refusal::TargetUnavailable) {
                    notices.extend(d.give_back(agent, &conversation, None, now).1);
                }
                (Answer::Done, notices)
            }
            // Counted into connects and disconnects before it reaches a dispatcher.
            Self::Announce { .. } => (Answer::Done, Vec::new()),
        }
    }
}

/// How an instance that follows reaches the one that dispatches (`crate::cluster`).
#[async_trait::async_trait]
pub trait Leader: Send + Sync {
    /// Has the leader make `change`, and waits for its answer.
    async fn forward(&self, merchant: &MerchantId, change: Change) -> Result<Answer, StoreError>;
    /// The copy of the merchant's dispatcher the leader published last.
    async fn replica(&self, merchant: &MerchantId) -> Result<Option<Dispatcher>, StoreError>;
}

pub struct Dispatch {
    /// The outer lock only finds a merchant's dispatcher; the inner one is that merchant's.
    merchants: Mutex<HashMap<MerchantId, Arc<Mutex<Dispatcher>>>>,
    /// Wakes the timer after a change, so it sleeps until the right deadline.
    wake: Notify,
    /// Whether this instance dispatches (alone, or leading others); otherwise its dispatchers
    /// are copies of the leader's.
    leading: AtomicBool,
    /// Set when this instance runs beside others.
    leader: OnceLock<Arc<dyn Leader>>,
    /// Merchants changed since their dispatchers were last published to the followers.
    changed: Mutex<BTreeSet<MerchantId>>,
    /// Wakes the publisher after a change.
    pub publish: Notify,
    /// Wakes the settings follower (`crate::upkeep`) when the database says settings changed.
    pub settings_changed: Notify,
    /// The consoles open here and, where this instance dispatches, on every instance.
    consoles: Mutex<consoles::Consoles>,
    /// This instance's name among the others (empty alone).
    instance: OnceLock<String>,
    /// Moves whenever the dispatchers are forgotten (the lead changed), so that one loaded
    /// before is not kept.
    epoch: AtomicU64,
}

impl Default for Dispatch {
    fn default() -> Self {
        Self {
            merchants: Mutex::default(),
            wake: Notify::new(),
            leading: AtomicBool::new(true),
            leader: OnceLock::new(),
            changed: Mutex::default(),
            publish: Notify::new(),
            settings_changed: Notify::new(),
            consoles: Mutex::default(),
            instance: OnceLock::new(),
            epoch: AtomicU64::new(0),
        }
    }
}

impl Dispatch {
    /// Changes the merchant's dispatcher (here, or at the leader), then delivers what it
    /// decided.
    pub async fn change(
        &self,
        state: &AppState,
        merchant: &MerchantId,
        change: Change,
    ) -> Result<Answer, StoreError> {
        self.consoles.lock().unwrap_or_else(|e| e.into_inner()).remember(merchant, &change);
        match self.leader.get() {
            Some(leader) if !self.leading() => leader.forward(merchant, change).await,
            _ => self.change_here(state, merchant, change, self.instance()).await,
        }
    }

    /// Makes the change, which `from` (an instance's name) asked for, in this instance's
    /// dispatcher: it leads, or works alone.
    pub async fn change_here(
        &self,
        state: &AppState,
        merchant: &MerchantId,
        change: Change,
        from: &str,
    ) -> Result<Answer, StoreError> {
        if self.leader.get().is_some() && !self.leading() {
            return Err(StoreError::Cluster("this instance does not dispatch now".into()));
        }
        let dispatcher = self.dispatcher(state, merchant).await?;
        let now = now_ms();
        let (answer, notices) = {
            let changes =
                self.consoles.lock().unwrap_or_else(|e| e.into_inner()).count(from, merchant, change);
            let mut dispatcher = dispatcher.lock().unwrap_or_else(|e| e.into_inner());
            let mut answer = Answer::Done;
            let mut notices = Vec::new();
            for change in changes {
                let (answered, decided) = change.apply(&mut dispatcher, now);
                answer = answered;
                notices.extend(decided);
            }
            (answer, notices)
        };
        self.touched(merchant);
        deliver(state, merchant, notices).await;
        Ok(answer)
    }

    /// This instance's name among the others (empty when it runs alone).
    pub fn instance(&self) -> &str {
        self.instance.get().map_or("", String::as_str)
    }

    /// Where this instance dispatches: closes the consoles of every instance not `alive`.
    pub async fn let_go_of_the_gone(&self, state: &AppState, alive: &[String]) {
        let gone: Vec<String> = {
            let consoles = self.consoles.lock().unwrap_or_else(|e| e.into_inner());
            consoles.instances().into_iter().filter(|instance| !alive.contains(instance)).collect()
        };
        for instance in gone {
            let closed = self.consoles.lock().unwrap_or_else(|e| e.into_inner()).take_instance(&instance);
            for (merchant, agent) in closed {
                tracing::info!(%merchant, agent, %instance, "an instance is gone: its consoles close");
                // Counted out already: made as that instance's own disconnect would be.
                let dispatcher = match self.dispatcher(state, &merchant).await {
                    Ok(dispatcher) => dispatcher,
                    Err(error) => {
                        tracing::warn!(%error, %merchant, "could not close a gone instance's console");
                        continue;
                    }
                };
                let notices =
                    dispatcher.lock().unwrap_or_else(|e| e.into_inner()).disconnect(agent, now_ms());
                self.touched(&merchant);
                deliver(state, &merchant, notices).await;
            }
        }
    }

    /// Whether this instance dispatches.
    pub fn leading(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// From now on this instance, named `instance`, follows `leader` (until
    /// [`Dispatch::lead`]).
    pub fn follow(&self, leader: Arc<dyn Leader>, instance: String) {
        let _ = self.leader.set(leader);
        let _ = self.instance.set(instance);
        self.leading.store(false, Ordering::SeqCst);
        self.forget_all();
    }

    /// This instance leads now: its dispatchers are rebuilt from the database (consoles
    /// elsewhere announce themselves again).
    pub async fn lead(&self, state: &AppState) {
        self.forget_all();
        self.leading.store(true, Ordering::SeqCst);
        // Each dispatcher rebuilt here is published (see `dispatcher`): the followers' copies
        // are the old leader's.
        resume(state).await;
    }

    /// This instance lost the lead: it follows again.
    pub fn stop_leading(&self) {
        self.leading.store(false, Ordering::SeqCst);
        self.changed.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.forget_all();
    }

    /// Following a new leader: the copies of the old one's dispatchers go.
    pub fn forget_copies(&self) {
        if !self.leading() {
            self.forget_all();
        }
    }

    /// Takes a copy of a dispatcher the leader published.
    pub fn install(&self, state: &AppState, merchant: &MerchantId, copy: Dispatcher) {
        let mut merchants = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
        if self.leading() {
            return;
        }
        let used = merchants.insert(merchant.clone(), Arc::new(Mutex::new(copy))).is_some();
        drop(merchants);
        // Sessions here follow this merchant's queue: it changed.
        if used {
            state.queues.changed(state, merchant);
        }
    }

    /// The merchants changed since the last call, with their dispatchers, to publish.
    pub fn take_changed(&self) -> Vec<(MerchantId, Dispatcher)> {
        let changed = std::mem::take(&mut *self.changed.lock().unwrap_or_else(|e| e.into_inner()));
        let merchants = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
        changed
            .into_iter()
            .filter_map(|merchant| {
                let copy = merchants.get(&merchant)?.lock().unwrap_or_else(|e| e.into_inner()).clone();
                Some((merchant, copy))
            })
            .collect()
    }

    /// The announcements that tell a (new) leader of this instance's consoles.
    pub fn announcements(&self) -> Vec<(MerchantId, Change)> {
        self.consoles.lock().unwrap_or_else(|e| e.into_inner()).announcements()
    }

    /// A change was made here: the timer's next deadline may be sooner, and followers need
    /// the new copy.
    fn touched(&self, merchant: &MerchantId) {
        self.wake.notify_one();
        if self.leader.get().is_some() {
            self.changed.lock().unwrap_or_else(|e| e.into_inner()).insert(merchant.clone());
            self.publish.notify_one();
        }
    }

    fn forget_all(&self) {
        let mut merchants = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
        merchants.clear();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        drop(merchants);
        self.consoles.lock().unwrap_or_else(|e| e.into_inner()).forget_instances();
        self.wake.notify_one();
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
        loop {
            if let Some(found) = self.merchants.lock().unwrap_or_else(|e| e.into_inner()).get(merchant_id) {
                return Ok(found.clone());
            }
            let epoch = self.epoch.load(Ordering::SeqCst);
            let leading = self.leading();
            let dispatcher = match self.leader.get() {
                Some(leader) if !leading => match leader.replica(merchant_id).await? {
                    Some(copy) => copy,
                    None => Dispatcher::new(self.rules(state, merchant_id).await?),
                },
                _ => self.build(state, merchant_id).await?,
            };
            let mut merchants = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
            // The lead changed while it loaded: what it loaded belongs to the other role.
            if self.epoch.load(Ordering::SeqCst) != epoch {
                continue;
            }
            // Another request may have built it meanwhile, from the same rows: the first stays.
            let found = merchants
                .entry(merchant_id.clone())
                .or_insert_with(|| Arc::new(Mutex::new(dispatcher)))
                .clone();
            drop(merchants);
            self.wake.notify_one();
            if leading && self.leader.get().is_some() {
                self.touched(merchant_id);
            }
            return Ok(found);
        }
    }

    async fn rules(
        &self,
        state: &AppState,
        merchant_id: &MerchantId,
    ) -> Result<tandem_dispatch::Settings, StoreError> {
        let merchant = state
            .store
            .merchant(merchant_id)
            .await?
            .ok_or_else(|| StoreError::UnknownMerchant(merchant_id.clone()))?;
        Ok(merchant.dispatch.rules())
    }

    /// The merchant's dispatcher as the database has it: who waits, and who handles what.
    async fn build(&self, state: &AppState, merchant_id: &MerchantId) -> Result<Dispatcher, StoreError> {
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
        Ok(dispatcher)
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
        if !self.leading() {
            return None;
        }
        let now = now_ms();
        self.all()
            .into_iter()
            .filter_map(|(_, d)| d.lock().unwrap_or_else(|e| e.into_inner()).next_deadline(now))
            .min()
    }

    fn tick_all(&self) -> Vec<(MerchantId, Vec<Notice>)> {
        if !self.leading() {
            return Vec::new();
        }
        let now = now_ms();
        let ticked: Vec<_> = self
            .all()
            .into_iter()
            .map(|(merchant, d)| (merchant, d.lock().unwrap_or_else(|e| e.into_inner()).tick(now)))
            .filter(|(_, notices)| !notices.is_empty())
            .collect();
        for (merchant, _) in &ticked {
            self.touched(merchant);
        }
        ticked
    }
}

/// Rebuilds dispatch for every merchant with open conversations, so that after a restart the
/// grace periods of agents who had chats start now and waiting customers are offered as soon as
/// an agent is back, whoever arrives first.
pub async fn resume(state: &AppState) {
    if !state.dispatch.leading() {
        return;
    }
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
