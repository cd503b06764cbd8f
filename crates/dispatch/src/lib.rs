//! Tandem's dispatcher: which agent is offered which waiting customer, and how long a wait will be.
//!
//! Dispatch works like ride-hailing. A waiting conversation is offered to exactly one eligible
//! agent at a time — online, connected, under their capacity, speaking the customer's language
//! (and having the skill asked for) — choosing the one with the fewest chats who has been idle
//! longest. The agent accepts or declines within the merchant's offer timeout; otherwise the
//! offer expires and moves on. An agent who lets several offers in a row expire is set away.
//! Agents may also pick from the queue by hand. Within one language and skill, conversations
//! receive their first offer in the order they entered the queue.
//!
//! An agent whose last console disconnects keeps their chats for a grace period; after it, the
//! chats go back to the front of the queue.
//!
//! This crate is pure logic: no I/O and no clock. Every call takes the time `now` (milliseconds
//! on any monotonic scale), and returns the [`Notice`]s the caller must deliver. The server runs
//! one [`Dispatcher`] per merchant behind a mutex and calls [`Dispatcher::tick`] at
//! [`Dispatcher::next_deadline`]; [`simulation`] drives the very same code through a simulated
//! day.

pub mod simulation;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use serde::{Deserialize, Serialize};

pub use tandem_protocol::{ConversationId, Presence};

/// Milliseconds, on whatever monotonic scale the caller uses.
pub type Millis = i64;
pub type AgentId = i64;

/// A merchant's dispatch rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// How long an agent has to accept or decline an offer.
    pub offer_timeout_ms: Millis,
    /// Offers an agent may let expire in a row before being set away.
    pub missed_offers_before_away: u32,
    /// How long an agent's chats wait for them after their last console disconnects.
    pub grace_ms: Millis,
}

impl Default for Settings {
    fn default() -> Self {
        Self { offer_timeout_ms: 20_000, missed_offers_before_away: 3, grace_ms: 60_000 }
    }
}

/// Who an agent is, as far as dispatch cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProfile {
    pub id: AgentId,
    /// Primary language subtags, e.g. `en`, `sv`.
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    /// Chats at once.
    pub capacity: u32,
}

/// What a conversation needs from its agent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Need {
    /// Primary language subtag of the customer's locale.
    pub language: String,
    pub skill: Option<String>,
}

impl Need {
    /// The need of a customer with a BCP 47 `locale` (`sv-SE` needs `sv`).
    pub fn for_locale(locale: &str, skill: Option<String>) -> Self {
        let language = locale.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        Self { language, skill }
    }
}

/// Something the caller must tell an agent or a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Show the agent this conversation, to accept or decline before `expires_at`.
    Offered { agent: AgentId, conversation: ConversationId, expires_at: Millis },
    /// The offer is gone: another agent took the conversation, the customer left, or the agent
    /// went away or disconnected.
    OfferWithdrawn { agent: AgentId, conversation: ConversationId },
    /// The agent did not answer in time; the conversation moves on.
    OfferExpired { agent: AgentId, conversation: ConversationId },
    /// The agent let too many offers expire in a row and is now away.
    WentAway { agent: AgentId },
    /// The agent's chat went back to the front of the queue (grace period over, or the agent
    /// was removed); tell the customer.
    ReturnedToQueue { agent: AgentId, conversation: ConversationId },
}

/// Why a request was refused; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The agent is not connected.
    UnknownAgent,
    /// The conversation is not waiting (taken, ended, or never queued).
    NotWaiting,
    /// The agent already has as many chats as they can take.
    AtCapacity,
    /// The conversation is not one of this agent's chats.
    NotYours,
    /// The agent to transfer to is not online, connected and free.
    TargetUnavailable,
}

/// The live queue and the agents, for the supervisor view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub waiting: u32,
    pub longest_wait_ms: Millis,
    pub agents: Vec<AgentSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub presence: Presence,
    /// `false` while the agent's chats wait out the grace period.
    pub connected: bool,
    pub chats: u32,
    pub capacity: u32,
    pub offered: Option<ConversationId>,
}

/// Default handle time until the merchant's own are known.
const DEFAULT_HANDLE_MS: Millis = 180_000;
/// Default time from offer to accept until the merchant's own is known.
const DEFAULT_RESPONSE_MS: Millis = 8_000;
/// Weight of the newest observation in the running averages: recent shifts matter most.
const LEARNING_RATE_PERCENT: i64 = 20;

/// A running average that learns from recent observations.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Average(Option<Millis>);

impl Average {
    fn observe(&mut self, value: Millis) {
        self.0 = Some(match self.0 {
            None => value,
            Some(mean) => mean + (value - mean) * LEARNING_RATE_PERCENT / 100,
        });
    }

    fn or(self, fallback: Millis) -> Millis {
        self.0.unwrap_or(fallback)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Agent {
    profile: AgentProfile,
    presence: Presence,
    /// Open consoles; at zero the grace period runs.
    connections: u32,
    disconnected_at: Option<Millis>,
    chats: BTreeSet<ConversationId>,
    offer: Option<ConversationId>,
    /// Since when the agent has been without anything new: came online or finished a chat.
    idle_since: Millis,
    missed_in_a_row: u32,
    handle: Average,
    response: Average,
}

impl Agent {
    /// A newly seen agent, online; `disconnected_at` when restored without a console yet.
    fn new(profile: AgentProfile, now: Millis, disconnected_at: Option<Millis>) -> Self {
        Self {
            profile,
            presence: Presence::Online,
            connections: 0,
            disconnected_at,
            chats: BTreeSet::new(),
            offer: None,
            idle_since: now,
            missed_in_a_row: 0,
            handle: Average(None),
            response: Average(None),
        }
    }

    fn available(&self) -> bool {
        self.presence == Presence::Online && self.connections > 0
    }

    fn meets(&self, need: &Need) -> (bool, bool) {
        let speaks =
            self.profile.languages.iter().any(|language| language.eq_ignore_ascii_case(&need.language));
        let skilled = need
            .skill
            .as_ref()
            .is_none_or(|skill| self.profile.skills.iter().any(|s| s.eq_ignore_ascii_case(skill)));
        (speaks, skilled)
    }

    fn has_room(&self) -> bool {
        let load = u32::try_from(self.chats.len()).unwrap_or(u32::MAX);
        load.saturating_add(u32::from(self.offer.is_some())) < self.profile.capacity
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Waiting {
    id: ConversationId,
    need: Need,
    queued_at: Millis,
    /// Returned by an agent or after a disconnect: ahead of everyone who has not been answered.
    front: bool,
    offer: Option<Offer>,
    /// Agents who declined or let an offer of it expire, and when: not offered it again for one
    /// offer timeout, and after that only when nobody else can take it.
    passed_by: BTreeMap<AgentId, Millis>,
    /// A transfer: offered only to this agent until they answer.
    only_to: Option<AgentId>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Offer {
    agent: AgentId,
    made_at: Millis,
    expires_at: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Active {
    agent: AgentId,
    accepted_at: Millis,
    need: Need,
}

/// One merchant's queue and agents.
///
/// Serializable, so that an instance that does not dispatch can hold a copy of the one that
/// does and answer questions (a place in the queue, who is available) from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dispatcher {
    settings: Settings,
    agents: BTreeMap<AgentId, Agent>,
    /// Waiting conversations in queue order: returned ones first, then by entry.
    queue: Vec<Waiting>,
    active: BTreeMap<ConversationId, Active>,
    handle: Average,
    response: Average,
    /// Drained by every call that changes something: empty between calls.
    #[serde(skip)]
    notices: Vec<Notice>,
}

impl Dispatcher {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            agents: BTreeMap::new(),
            queue: Vec::new(),
            active: BTreeMap::new(),
            handle: Average(None),
            response: Average(None),
            notices: Vec::new(),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// The merchant changed their rules: offers made from now on follow them (one already out
    /// keeps the time it was given).
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
    }

    // ----- agents -----

    /// One more console of the agent is connected. A returning agent keeps their presence and
    /// chats; a new one starts online.
    pub fn connect(&mut self, profile: AgentProfile, now: Millis) -> Vec<Notice> {
        let agent = self.agents.entry(profile.id).or_insert_with(|| Agent::new(profile.clone(), now, None));
        agent.profile = profile;
        agent.connections += 1;
        agent.disconnected_at = None;
        if agent.presence == Presence::Offline {
            agent.presence = Presence::Online;
        }
        self.finish(now)
    }

    /// One console of the agent closed. When it was the last, their offer moves on and their
    /// chats wait out the grace period.
    pub fn disconnect(&mut self, agent: AgentId, now: Millis) -> Vec<Notice> {
        if let Some(state) = self.agents.get_mut(&agent) {
            state.connections = state.connections.saturating_sub(1);
            if state.connections == 0 {
                if state.chats.is_empty() {
                    self.withdraw_offer_of(agent);
                    self.agents.remove(&agent);
                } else {
                    state.disconnected_at = Some(now);
                    self.withdraw_offer_of(agent);
                }
            }
        }
        self.finish(now)
    }

    /// The agent is gone for good (deactivated, or signed out): their chats go back to the
    /// front of the queue at once.
    pub fn remove(&mut self, agent: AgentId, now: Millis) -> Vec<Notice> {
        self.withdraw_offer_of(agent);
        self.return_chats_of(agent, now);
        self.agents.remove(&agent);
        self.finish(now)
    }

    pub fn set_presence(&mut self, agent: AgentId, presence: Presence, now: Millis) -> Vec<Notice> {
        if let Some(state) = self.agents.get_mut(&agent) {
            state.presence = presence;
            if presence == Presence::Online {
                state.missed_in_a_row = 0;
            } else {
                self.withdraw_offer_of(agent);
            }
        }
        self.finish(now)
    }

    pub fn presence(&self, agent: AgentId) -> Option<Presence> {
        self.agents.get(&agent).map(|a| a.presence)
    }

    /// Whether any agent is online and connected.
    pub fn anyone_available(&self) -> bool {
        self.agents.values().any(Agent::available)
    }

    /// The chats the dispatcher counts as the agent's.
    pub fn chats_of(&self, agent: AgentId) -> Vec<ConversationId> {
        self.agents.get(&agent).map(|a| a.chats.iter().cloned().collect()).unwrap_or_default()
    }

    /// Whether `to` can be handed a chat by `from`: a colleague online, connected, with room.
    pub fn can_take_transfer(&self, from: AgentId, to: AgentId) -> bool {
        to != from && self.agents.get(&to).is_some_and(|t| t.available() && t.has_room())
    }

    /// Whether the dispatcher counts `conversation` as one of the agent's chats.
    pub fn has_chat(&self, agent: AgentId, conversation: &ConversationId) -> bool {
        self.active.get(conversation).is_some_and(|a| a.agent == agent)
    }

    /// The conversation offered to the agent now, if any.
    pub fn offer_of(&self, agent: AgentId) -> Option<(ConversationId, Millis)> {
        let conversation = self.agents.get(&agent)?.offer.clone()?;
        let waiting = self.queue.iter().find(|w| w.id == conversation)?;
        Some((conversation, waiting.offer?.expires_at))
    }

    // ----- conversations -----

    /// A customer asks for a person.
    pub fn enqueue(&mut self, id: ConversationId, need: Need, now: Millis) -> Vec<Notice> {
        self.insert_waiting(id, need, now, false, None);
        self.finish(now)
    }

    /// Restores state after a restart: an active chat whose agent has not reconnected yet. The
    /// grace period starts now.
    pub fn restore_active(
        &mut self,
        id: ConversationId,
        need: Need,
        agent: AgentProfile,
        accepted_at: Millis,
        now: Millis,
    ) -> Vec<Notice> {
        let agent_id = agent.id;
        let state = self.agents.entry(agent_id).or_insert_with(|| Agent::new(agent, now, Some(now)));
        state.chats.insert(id.clone());
        self.active.insert(id, Active { agent: agent_id, accepted_at, need });
        self.finish(now)
    }

    /// Restores a waiting conversation after a restart, in its place.
    pub fn restore_waiting(
        &mut self,
        id: ConversationId,
        need: Need,
        queued_at: Millis,
        front: bool,
        now: Millis,
    ) -> Vec<Notice> {
        self.insert_waiting(id, need, queued_at, front, None);
        self.finish(now)
    }

    /// The agent takes the conversation: the one offered to them, or one picked from the queue.
    /// A pick withdraws any offer of it to someone else.
    pub fn accept(
        &mut self,
        agent: AgentId,
        conversation: &ConversationId,
        now: Millis,
    ) -> (Result<(), Refusal>, Vec<Notice>) {
        let result = self.try_accept(agent, conversation, now);
        (result, self.finish(now))
    }

    fn try_accept(
        &mut self,
        agent: AgentId,
        conversation: &ConversationId,
        now: Millis,
    ) -> Result<(), Refusal> {
        let Some(index) = self.queue.iter().position(|w| &w.id == conversation) else {
            return Err(Refusal::NotWaiting);
        };
        let state = self.agents.get(&agent).ok_or(Refusal::UnknownAgent)?;
        let offered_here = self.queue[index].offer.is_some_and(|o| o.agent == agent);
        let load = u32::try_from(state.chats.len()).unwrap_or(u32::MAX);
        if load >= state.profile.capacity {
            return Err(Refusal::AtCapacity);
        }
        let waiting = self.queue.remove(index);
        if let Some(offer) = waiting.offer {
            if offer.agent == agent {
                let response = now - offer.made_at;
                self.response.observe(response);
                if let Some(state) = self.agents.get_mut(&agent) {
                    state.response.observe(response);
                }
            } else {
                self.notices
                    .push(Notice::OfferWithdrawn { agent: offer.agent, conversation: waiting.id.clone() });
            }
            if let Some(other) = self.agents.get_mut(&offer.agent) {
                other.offer = None;
            }
        }
        let state = self.agents.get_mut(&agent).ok_or(Refusal::UnknownAgent)?;
        state.missed_in_a_row = 0;
        state.chats.insert(waiting.id.clone());
        // Picking by hand can fill the last place that an offer was holding.
        if !state.has_room() && state.offer.is_some() && !offered_here {
            self.withdraw_offer_of(agent);
        }
        self.active.insert(waiting.id, Active { agent, accepted_at: now, need: waiting.need });
        Ok(())
    }

    /// The agent says no to the offer; it moves on to the next agent.
    pub fn decline(&mut self, agent: AgentId, conversation: &ConversationId, now: Millis) -> Vec<Notice> {
        if let Some(waiting) = self.queue.iter_mut().find(|w| &w.id == conversation)
            && waiting.offer.is_some_and(|o| o.agent == agent)
        {
            waiting.offer = None;
            waiting.only_to = None;
            waiting.passed_by.insert(agent, now);
            if let Some(state) = self.agents.get_mut(&agent) {
                state.offer = None;
                state.missed_in_a_row = 0;
            }
        }
        self.finish(now)
    }

    /// The conversation is over (either side ended it, or the customer left the queue).
    pub fn end(&mut self, conversation: &ConversationId, now: Millis) -> Vec<Notice> {
        if let Some(index) = self.queue.iter().position(|w| &w.id == conversation) {
            let waiting = self.queue.remove(index);
            if let Some(offer) = waiting.offer {
                if let Some(state) = self.agents.get_mut(&offer.agent) {
                    state.offer = None;
                }
                self.notices.push(Notice::OfferWithdrawn { agent: offer.agent, conversation: waiting.id });
            }
        } else if let Some(active) = self.active.remove(conversation) {
            let handle = now - active.accepted_at;
            self.handle.observe(handle);
            if let Some(state) = self.agents.get_mut(&active.agent) {
                state.chats.remove(conversation);
                state.handle.observe(handle);
                if state.chats.is_empty() {
                    state.idle_since = now;
                }
                if state.connections == 0 && state.chats.is_empty() {
                    self.agents.remove(&active.agent);
                }
            }
        }
        self.finish(now)
    }

    /// The agent puts their chat back at the front of the queue, optionally for one colleague
    /// (a transfer: offered to them first).
    pub fn give_back(
        &mut self,
        agent: AgentId,
        conversation: &ConversationId,
        to: Option<AgentId>,
        now: Millis,
    ) -> (Result<(), Refusal>, Vec<Notice>) {
        let result = self.try_give_back(agent, conversation, to, now);
        (result, self.finish(now))
    }

    fn try_give_back(
        &mut self,
        agent: AgentId,
        conversation: &ConversationId,
        to: Option<AgentId>,
        now: Millis,
    ) -> Result<(), Refusal> {
        let Some(active) = self.active.get(conversation).filter(|a| a.agent == agent) else {
            return Err(Refusal::NotYours);
        };
        let need = active.need.clone();
        if let Some(target) = to
            && !self.can_take_transfer(agent, target)
        {
            return Err(Refusal::TargetUnavailable);
        }
        self.active.remove(conversation);
        if let Some(state) = self.agents.get_mut(&agent) {
            state.chats.remove(conversation);
            if state.chats.is_empty() {
                state.idle_since = now;
            }
        }
        self.insert_waiting(conversation.clone(), need, now, true, to);
        if let Some(waiting) = self.queue.iter_mut().find(|w| &w.id == conversation) {
            waiting.passed_by.insert(agent, now);
        }
        Ok(())
    }

    /// The agent hands the chat back to the bot: it leaves dispatch like an ended one, without
    /// counting as a handle time.
    pub fn release(&mut self, conversation: &ConversationId, now: Millis) -> Vec<Notice> {
        if let Some(active) = self.active.remove(conversation)
            && let Some(state) = self.agents.get_mut(&active.agent)
        {
            state.chats.remove(conversation);
            if state.chats.is_empty() {
                state.idle_since = now;
            }
        }
        self.finish(now)
    }

    // ----- time -----

    /// Expires offers, rests and grace periods due at `now`.
    pub fn tick(&mut self, now: Millis) -> Vec<Notice> {
        let expired: Vec<(ConversationId, AgentId)> = self
            .queue
            .iter()
            .filter_map(|w| w.offer.filter(|o| o.expires_at <= now).map(|o| (w.id.clone(), o.agent)))
            .collect();
        for (conversation, agent) in expired {
            if let Some(waiting) = self.queue.iter_mut().find(|w| w.id == conversation) {
                waiting.offer = None;
                waiting.only_to = None;
                waiting.passed_by.insert(agent, now);
            }
            self.notices.push(Notice::OfferExpired { agent, conversation });
            if let Some(state) = self.agents.get_mut(&agent) {
                state.offer = None;
                state.missed_in_a_row += 1;
                if state.missed_in_a_row >= self.settings.missed_offers_before_away
                    && state.presence == Presence::Online
                {
                    state.presence = Presence::Away;
                    self.notices.push(Notice::WentAway { agent });
                }
            }
        }
        let grace_over: Vec<AgentId> = self
            .agents
            .iter()
            .filter(|(_, a)| {
                a.connections == 0 && a.disconnected_at.is_some_and(|at| at + self.settings.grace_ms <= now)
            })
            .map(|(id, _)| *id)
            .collect();
        for agent in grace_over {
            self.return_chats_of(agent, now);
            self.agents.remove(&agent);
        }
        self.finish(now)
    }

    /// When [`tick`](Self::tick) must next be called after `now`, if ever.
    pub fn next_deadline(&self, now: Millis) -> Option<Millis> {
        let offers = self.queue.iter().filter_map(|w| w.offer.map(|o| o.expires_at));
        let graces = self
            .agents
            .values()
            .filter(|a| a.connections == 0)
            .filter_map(|a| a.disconnected_at.map(|at| at + self.settings.grace_ms));
        // A conversation passed on waits for its agents' rest to end.
        let rests = self
            .queue
            .iter()
            .filter(|w| w.offer.is_none())
            .flat_map(|w| w.passed_by.values().map(|at| at + self.settings.offer_timeout_ms))
            .filter(|at| *at > now);
        offers.chain(graces).chain(rests).min()
    }

    // ----- reading -----

    /// The conversation's place in the queue, from 1.
    pub fn position(&self, conversation: &ConversationId) -> Option<u32> {
        let index = self.queue.iter().position(|w| &w.id == conversation)?;
        u32::try_from(index + 1).ok()
    }

    /// How many conversations wait.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    pub fn is_waiting(&self, conversation: &ConversationId) -> bool {
        self.queue.iter().any(|w| &w.id == conversation)
    }

    /// Waiting conversations in queue order.
    pub fn queue(&self) -> Vec<ConversationId> {
        self.queue.iter().map(|w| w.id.clone()).collect()
    }

    /// How long each waiting conversation will likely wait from `now` until an agent accepts.
    ///
    /// Projects the queue forward: each agent who is online has a place free now or when their
    /// current chat is expected to end (by their own recent handle times); conversations take the
    /// earliest place in queue order, and are answered after the agent's usual response time.
    pub fn estimated_waits(&self, now: Millis) -> BTreeMap<ConversationId, Millis> {
        let mut places = Vec::new();
        for agent in self.agents.values().filter(|a| a.available()) {
            let handle = self.handle_of(agent);
            for chat in &agent.chats {
                let expected_end = self.active.get(chat).map_or(now, |a| a.accepted_at + handle);
                // A chat past its expected end will still take a little while.
                places.push((expected_end.max(now + handle / 8), agent.profile.id));
            }
            let load = u32::try_from(agent.chats.len()).unwrap_or(u32::MAX);
            for _ in load..agent.profile.capacity {
                places.push((now, agent.profile.id));
            }
        }
        let mut waits = BTreeMap::new();
        // An offered conversation holds a place of the agent it is offered to.
        for waiting in &self.queue {
            let Some(offer) = waiting.offer else { continue };
            let Some(agent) = self.agents.get(&offer.agent) else { continue };
            if let Some(index) = places.iter().position(|(at, id)| *id == offer.agent && *at <= now) {
                places.swap_remove(index);
            }
            let answered = (offer.made_at + self.response_of(agent)).max(now);
            waits.insert(waiting.id.clone(), answered - now);
            places.push((answered + self.handle_of(agent), offer.agent));
        }
        let mut places: BinaryHeap<Reverse<(Millis, AgentId)>> = places.into_iter().map(Reverse).collect();
        let mut ahead: i64 = 0;
        for waiting in self.queue.iter().filter(|w| w.offer.is_none()) {
            ahead += 1;
            let Some(Reverse((free_at, agent_id))) = places.pop() else {
                // Nobody online: a wait as long as the whole queue ahead at one agent's pace.
                waits.insert(waiting.id.clone(), ahead.saturating_mul(self.handle.or(DEFAULT_HANDLE_MS)));
                continue;
            };
            let agent = &self.agents[&agent_id];
            let answered = free_at.max(now) + self.response_of(agent);
            waits.insert(waiting.id.clone(), answered - now);
            places.push(Reverse((answered + self.handle_of(agent), agent_id)));
        }
        waits
    }

    fn handle_of(&self, agent: &Agent) -> Millis {
        agent.handle.or(self.handle.or(DEFAULT_HANDLE_MS))
    }

    fn response_of(&self, agent: &Agent) -> Millis {
        agent.response.or(self.response.or(DEFAULT_RESPONSE_MS))
    }

    pub fn estimated_wait(&self, conversation: &ConversationId, now: Millis) -> Option<Millis> {
        self.estimated_waits(now).remove(conversation)
    }

    /// The conversation's place (from 1) and estimated wait, if it is waiting.
    pub fn status_of(&self, conversation: &ConversationId, now: Millis) -> Option<(u32, Millis)> {
        Some((self.position(conversation)?, self.estimated_wait(conversation, now)?))
    }

    /// Every waiting conversation with its place (from 1) and estimated wait, in queue order:
    /// the whole queue in one pass, for a server to publish once per change.
    pub fn queue_statuses(&self, now: Millis) -> Vec<(ConversationId, u32, Millis)> {
        let mut waits = self.estimated_waits(now);
        self.queue
            .iter()
            .zip(1u32..)
            .filter_map(|(waiting, place)| Some((waiting.id.clone(), place, waits.remove(&waiting.id)?)))
            .collect()
    }

    pub fn snapshot(&self, now: Millis) -> Snapshot {
        Snapshot {
            waiting: u32::try_from(self.queue.len()).unwrap_or(u32::MAX),
            longest_wait_ms: self.queue.iter().map(|w| now - w.queued_at).max().unwrap_or(0).max(0),
            agents: self
                .agents
                .values()
                .map(|a| AgentSnapshot {
                    id: a.profile.id,
                    presence: a.presence,
                    connected: a.connections > 0,
                    chats: u32::try_from(a.chats.len()).unwrap_or(u32::MAX),
                    capacity: a.profile.capacity,
                    offered: a.offer.clone(),
                })
                .collect(),
        }
    }

    // ----- inside -----

    fn insert_waiting(
        &mut self,
        id: ConversationId,
        need: Need,
        queued_at: Millis,
        front: bool,
        only_to: Option<AgentId>,
    ) {
        if self.is_waiting(&id) || self.active.contains_key(&id) {
            return;
        }
        let waiting =
            Waiting { id, need, queued_at, front, offer: None, passed_by: BTreeMap::new(), only_to };
        // Returned chats go after earlier returned ones, before everyone else; the rest by entry.
        let index = if front {
            self.queue.iter().position(|w| !w.front).unwrap_or(self.queue.len())
        } else {
            self.queue.len()
        };
        self.queue.insert(index, waiting);
    }

    fn withdraw_offer_of(&mut self, agent: AgentId) {
        let Some(conversation) = self.agents.get_mut(&agent).and_then(|a| a.offer.take()) else { return };
        if let Some(waiting) = self.queue.iter_mut().find(|w| w.id == conversation) {
            waiting.offer = None;
            waiting.only_to = None;
        }
        self.notices.push(Notice::OfferWithdrawn { agent, conversation });
    }

    fn return_chats_of(&mut self, agent: AgentId, now: Millis) {
        let Some(state) = self.agents.get_mut(&agent) else { return };
        let chats = std::mem::take(&mut state.chats);
        for conversation in chats {
            let Some(active) = self.active.remove(&conversation) else { continue };
            let need = active.need;
            self.insert_waiting(conversation.clone(), need, now, true, None);
            self.notices.push(Notice::ReturnedToQueue { agent, conversation });
        }
    }

    /// Offers every waiting conversation that can be offered, in queue order, then hands the
    /// caller what to deliver.
    fn finish(&mut self, now: Millis) -> Vec<Notice> {
        self.offer_waiting(now);
        std::mem::take(&mut self.notices)
    }

    fn offer_waiting(&mut self, now: Millis) {
        for index in 0..self.queue.len() {
            if self.queue[index].offer.is_some() {
                continue;
            }
            if let Some(target) = self.queue[index].only_to
                && !self
                    .agents
                    .get(&target)
                    .is_some_and(|a| a.available() && a.has_room() && a.offer.is_none())
            {
                // The colleague it was transferred to cannot take it now: whoever can, does.
                self.queue[index].only_to = None;
            }
            let Some(agent) = self.best_agent_for(&self.queue[index], now) else { continue };
            let expires_at = now + self.settings.offer_timeout_ms;
            let waiting = &mut self.queue[index];
            waiting.offer = Some(Offer { agent, made_at: now, expires_at });
            let conversation = waiting.id.clone();
            if let Some(state) = self.agents.get_mut(&agent) {
                state.offer = Some(conversation.clone());
            }
            self.notices.push(Notice::Offered { agent, conversation, expires_at });
        }
    }

    /// The agent to offer `waiting` to: free and available, meeting its need (relaxed when no
    /// available agent meets it, so nobody waits for a person who is not there), preferring
    /// those who have not passed on it, then the fewest chats, then the longest idle.
    fn best_agent_for(&self, waiting: &Waiting, now: Millis) -> Option<AgentId> {
        if let Some(target) = waiting.only_to {
            return Some(target);
        }
        let available: Vec<&Agent> = self.agents.values().filter(|a| a.available()).collect();
        let any_speaks = available.iter().any(|a| a.meets(&waiting.need).0);
        let any_skilled = available.iter().any(|a| a.meets(&waiting.need).1);
        let candidates = available.into_iter().filter(|a| {
            let (speaks, skilled) = a.meets(&waiting.need);
            let language_ok = speaks || !any_speaks || waiting.need.language.is_empty();
            let skill_ok = skilled || !any_skilled;
            let resting = waiting
                .passed_by
                .get(&a.profile.id)
                .is_some_and(|at| now < at + self.settings.offer_timeout_ms);
            a.offer.is_none() && a.has_room() && language_ok && skill_ok && !resting
        });
        candidates
            .min_by_key(|a| {
                (waiting.passed_by.contains_key(&a.profile.id), a.chats.len(), a.idle_since, a.profile.id)
            })
            .map(|a| a.profile.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: AgentId, languages: &[&str], capacity: u32) -> AgentProfile {
        AgentProfile {
            id,
            languages: languages.iter().map(|l| (*l).to_owned()).collect(),
            skills: Vec::new(),
            capacity,
        }
    }

    fn chat(id: &str) -> ConversationId {
        ConversationId(id.to_owned())
    }

    fn english() -> Need {
        Need::for_locale("en-GB", None)
    }

    fn offered(notices: &[Notice]) -> Vec<(AgentId, String)> {
        notices
            .iter()
            .filter_map(|n| match n {
                Notice::Offered { agent, conversation, .. } => Some((*agent, conversation.0.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_waiting_customer_is_offered_to_the_agent_idle_longest_only() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 2), 0);
        d.connect(agent(2, &["en"], 2), 1_000);
        let notices = d.enqueue(chat("a"), english(), 5_000);
        assert_eq!(offered(&notices), vec![(1, "a".to_owned())]);
        // Agent 1 holds an offer: the next customer goes to agent 2, never also to agent 1.
        let notices = d.enqueue(chat("b"), english(), 6_000);
        assert_eq!(offered(&notices), vec![(2, "b".to_owned())]);
        let notices = d.enqueue(chat("c"), english(), 7_000);
        assert!(offered(&notices).is_empty());
        assert_eq!(d.position(&chat("c")), Some(3));
    }

    #[test]
    fn language_is_matched_when_someone_speaks_it_and_relaxed_when_nobody_does() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 1), 0);
        d.connect(agent(2, &["en", "sv"], 1), 1_000);
        let notices = d.enqueue(chat("sv"), Need::for_locale("sv-SE", None), 2_000);
        assert_eq!(offered(&notices), vec![(2, "sv".to_owned())]);
        let notices = d.enqueue(chat("de"), Need::for_locale("de", None), 3_000);
        assert_eq!(offered(&notices), vec![(1, "de".to_owned())]);
    }

    #[test]
    fn a_skill_goes_to_an_agent_who_has_it_when_one_is_online() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 1), 0);
        let billing = AgentProfile { skills: vec!["billing".into()], ..agent(2, &["en"], 1) };
        d.connect(billing, 1_000);
        let notices = d.enqueue(chat("bill"), Need::for_locale("en", Some("billing".into())), 2_000);
        assert_eq!(offered(&notices), vec![(2, "bill".to_owned())], "not agent 1, though idle longer");
        // Agent 2 leaves: nobody online has the skill, so anyone may answer.
        let notices = d.remove(2, 3_000);
        assert!(notices.contains(&Notice::OfferWithdrawn { agent: 2, conversation: chat("bill") }));
        assert_eq!(offered(&notices), vec![(1, "bill".to_owned())]);
    }

    #[test]
    fn a_decline_moves_the_offer_on_and_the_decliner_rests() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 1), 0);
        d.enqueue(chat("a"), english(), 1_000);
        assert!(offered(&d.decline(1, &chat("a"), 2_000)).is_empty(), "not offered straight back");
        assert_eq!(d.next_deadline(2_000), Some(22_000));
        let notices = d.connect(agent(2, &["en"], 1), 3_000);
        assert_eq!(offered(&notices), vec![(2, "a".to_owned())]);
        d.decline(2, &chat("a"), 4_000);
        // Nobody else: after the rest, the first decliner is asked again.
        assert_eq!(offered(&d.tick(22_000)), vec![(1, "a".to_owned())]);
    }

    #[test]
    fn missed_offers_expire_and_after_three_in_a_row_the_agent_is_set_away() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 1), 0);
        d.enqueue(chat("a"), english(), 0);
        let mut now = 0;
        for round in 1..=3 {
            now += 20_000;
            let notices = d.tick(now);
            assert!(notices.contains(&Notice::OfferExpired { agent: 1, conversation: chat("a") }));
            assert_eq!(notices.contains(&Notice::WentAway { agent: 1 }), round == 3, "round {round}");
            now += 20_000;
            d.tick(now);
        }
        assert_eq!(d.presence(1), Some(Presence::Away));
        assert!(d.is_waiting(&chat("a")), "the customer is still in the queue");
        assert_eq!(offered(&d.set_presence(1, Presence::Online, now)), vec![(1, "a".to_owned())]);
    }

    #[test]
    fn a_pick_from_the_queue_withdraws_the_offer_to_someone_else() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 1), 0);
        d.connect(agent(2, &["en"], 1), 1);
        d.enqueue(chat("a"), english(), 2);
        let (result, notices) = d.accept(2, &chat("a"), 3);
        assert_eq!(result, Ok(()));
        assert!(notices.contains(&Notice::OfferWithdrawn { agent: 1, conversation: chat("a") }));
        assert_eq!(d.accept(1, &chat("a"), 4).0, Err(Refusal::NotWaiting));
        assert_eq!(d.chats_of(2), vec![chat("a")]);
    }

    #[test]
    fn chats_survive_a_short_disconnect_and_return_to_the_front_after_the_grace_period() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 2), 0);
        d.enqueue(chat("a"), english(), 0);
        assert_eq!(d.accept(1, &chat("a"), 1_000).0, Ok(()));
        d.disconnect(1, 2_000);
        d.connect(agent(1, &["en"], 2), 30_000);
        assert!(d.tick(70_000).is_empty(), "back within the grace period");
        assert_eq!(d.chats_of(1), vec![chat("a")]);

        d.connect(agent(2, &["en"], 1), 80_000);
        d.enqueue(chat("b"), english(), 81_000);
        assert_eq!(d.accept(2, &chat("b"), 82_000).0, Ok(()));
        d.enqueue(chat("c"), english(), 83_000); // offered to agent 1
        d.disconnect(1, 90_000);
        assert_eq!(d.next_deadline(90_000), Some(150_000));
        let notices = d.tick(150_000);
        assert!(notices.contains(&Notice::ReturnedToQueue { agent: 1, conversation: chat("a") }));
        assert_eq!(d.queue(), vec![chat("a"), chat("c")], "returned chats go first");
    }

    #[test]
    fn a_transfer_is_offered_to_the_colleague_first() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 2), 0);
        d.connect(agent(2, &["en"], 2), 0);
        d.connect(agent(3, &["en"], 2), 0);
        d.enqueue(chat("a"), english(), 1);
        assert_eq!(d.accept(1, &chat("a"), 2).0, Ok(()));
        assert_eq!(d.give_back(1, &chat("a"), Some(1), 3).0, Err(Refusal::TargetUnavailable));
        assert_eq!(d.give_back(2, &chat("a"), None, 3).0, Err(Refusal::NotYours));
        let (result, notices) = d.give_back(1, &chat("a"), Some(3), 4);
        assert_eq!(result, Ok(()));
        assert_eq!(offered(&notices), vec![(3, "a".to_owned())]);

        // A colleague busy with an offer of their own does not hold a transfer up.
        assert_eq!(d.accept(3, &chat("a"), 5).0, Ok(()));
        d.enqueue(chat("b"), english(), 6); // offered to agent 2, idle longest
        assert_eq!(d.offer_of(2).map(|(c, _)| c), Some(chat("b")));
        let (result, notices) = d.give_back(3, &chat("a"), Some(2), 7);
        assert_eq!(result, Ok(()));
        assert_eq!(offered(&notices), vec![(1, "a".to_owned())]);
    }

    #[test]
    fn the_estimate_grows_with_the_queue_and_learns_handle_times() {
        let mut d = Dispatcher::new(Settings::default());
        d.connect(agent(1, &["en"], 1), 0);
        d.enqueue(chat("a"), english(), 0);
        assert_eq!(d.accept(1, &chat("a"), 5_000).0, Ok(()));
        d.end(&chat("a"), 65_000); // a one-minute chat
        d.enqueue(chat("b"), english(), 70_000);
        assert_eq!(d.accept(1, &chat("b"), 75_000).0, Ok(()));
        d.enqueue(chat("c"), english(), 80_000);
        d.enqueue(chat("d"), english(), 80_000);
        let waits = d.estimated_waits(80_000);
        // Agent 1 is expected free at 135 s, answers in about 5 s; then a minute per chat.
        assert_eq!(waits[&chat("c")], 60_000);
        assert_eq!(waits[&chat("d")], 125_000);
        // The whole queue in one pass says the same, with places.
        assert_eq!(d.queue_statuses(80_000), vec![(chat("c"), 1, 60_000), (chat("d"), 2, 125_000)]);
        assert_eq!(d.position(&chat("d")), Some(2));
    }
}
