//! A simulated working day, driving the real [`Dispatcher`] with seeded randomness.
//!
//! Customers arrive at random (more around midday) speaking English, Swedish or German, some
//! needing the billing skill; agents have their own handle and response times, decline or miss
//! some offers, step away and lose their connection. The harness checks the promises dispatch
//! makes, from the outside: no chat is lost, no conversation is offered to two agents at once,
//! first offers are FIFO within a language and skill, and every customer is answered or given
//! the leave-a-message path. It also measures time to a human and how good the wait estimate
//! shown at arrival was.
//!
//! Discrete events: nothing sleeps, and the same parameters always give the same day.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{AgentId, AgentProfile, ConversationId, Dispatcher, Millis, Need, Notice, Presence, Settings};

const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;

/// What the simulated day looks like.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub seed: u64,
    pub agents: u32,
    pub customers: u32,
    /// Customers arrive within this many hours.
    pub day_hours: u32,
    /// Of offers, the share an agent declines.
    pub decline_percent: u32,
    /// Of offers, the share an agent lets expire.
    pub miss_percent: u32,
    /// Of chats, the share an agent puts back in the queue instead of ending it.
    pub give_back_percent: u32,
    /// Disconnects per agent per day; some outlast the grace period.
    pub disconnects_per_agent: u32,
    /// Away periods per agent per day.
    pub breaks_per_agent: u32,
    pub settings: Settings,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            seed: 7,
            agents: 10,
            customers: 500,
            day_hours: 10,
            decline_percent: 5,
            miss_percent: 3,
            give_back_percent: 3,
            disconnects_per_agent: 3,
            breaks_per_agent: 2,
            settings: Settings::default(),
        }
    }
}

/// What happened, and every broken promise.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub customers: u32,
    pub answered: u32,
    /// No agent online when they asked, or they gave up waiting: both get "leave a message".
    pub left_message: u32,
    pub offers: u32,
    pub declined: u32,
    pub expired: u32,
    pub went_away: u32,
    pub returned_to_queue: u32,
    pub time_to_human_p50_ms: Millis,
    pub time_to_human_p90_ms: Millis,
    /// Median absolute percentage error of the wait estimate shown at arrival.
    pub wait_estimate_mdape_percent: u32,
    pub violations: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "customers            {}", self.customers)?;
        writeln!(f, "answered by a person {}", self.answered)?;
        writeln!(f, "left a message       {}", self.left_message)?;
        writeln!(
            f,
            "offers               {} ({} declined, {} expired; {} agents set away)",
            self.offers, self.declined, self.expired, self.went_away
        )?;
        writeln!(f, "chats back in queue  {}", self.returned_to_queue)?;
        writeln!(f, "time to human p50    {}", seconds(self.time_to_human_p50_ms))?;
        writeln!(f, "time to human p90    {}", seconds(self.time_to_human_p90_ms))?;
        writeln!(f, "wait estimate MdAPE  {} %", self.wait_estimate_mdape_percent)?;
        if self.violations.is_empty() {
            write!(f, "promises             all kept")
        } else {
            write!(f, "promises broken      {}", self.violations.len())?;
            for violation in self.violations.iter().take(10) {
                write!(f, "\n  - {violation}")?;
            }
            Ok(())
        }
    }
}

fn seconds(ms: Millis) -> String {
    format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Arrive(u32),
    /// The agent's answer to the offer numbered `offer`.
    Answer {
        agent: AgentId,
        conversation: ConversationId,
        offer: u64,
        accept: bool,
    },
    /// The agent finishes the chat they took as chat number `chat`.
    Finish {
        agent: AgentId,
        conversation: ConversationId,
        chat: u64,
    },
    GiveUp(ConversationId),
    Disconnect(AgentId),
    Reconnect(AgentId),
    Break(AgentId),
    Resume(AgentId),
    Tick,
}

struct SimAgent {
    profile: AgentProfile,
    handle_mean: Millis,
    response_mean: Millis,
    /// Of offers, the share this agent lets expire: one agent of ten keeps forgetting the console.
    miss_percent: u32,
    connected: bool,
    /// The offer the agent is looking at, by number.
    offer: Option<(ConversationId, u64)>,
    /// Chats the agent believes they have, by chat number.
    chats: BTreeMap<ConversationId, u64>,
}

struct Customer {
    need: Need,
    arrived_at: Millis,
    estimate: Option<Millis>,
    answered_at: Option<Millis>,
    left_message: bool,
    ended: bool,
}

struct Harness {
    rng: ChaCha8Rng,
    params: Params,
    now: Millis,
    events: BinaryHeap<Reverse<(Millis, u64, Event)>>,
    event_serial: u64,
    dispatcher: Dispatcher,
    agents: BTreeMap<AgentId, SimAgent>,
    customers: BTreeMap<ConversationId, Customer>,
    /// Who each conversation is offered to now, as the notices say.
    offered: BTreeMap<ConversationId, AgentId>,
    /// Per need, waiting conversations never offered yet, in arrival order.
    never_offered: BTreeMap<Need, Vec<ConversationId>>,
    ticks: BTreeSet<Millis>,
    serial: u64,
    report: Report,
}

/// Runs a simulated day.
pub fn run(params: &Params) -> Report {
    let mut harness = Harness::new(params.clone());
    harness.run();
    harness.report
}

impl Harness {
    fn new(params: Params) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let day = Millis::from(params.day_hours) * HOUR;
        let mut harness = Self {
            rng: rng.clone(),
            dispatcher: Dispatcher::new(params.settings),
            params,
            now: 0,
            events: BinaryHeap::new(),
            event_serial: 0,
            agents: BTreeMap::new(),
            customers: BTreeMap::new(),
            offered: BTreeMap::new(),
            never_offered: BTreeMap::new(),
            ticks: BTreeSet::new(),
            serial: 0,
            report: Report::default(),
        };
        for n in 0..harness.params.agents {
            let id = AgentId::from(n + 1);
            let mut languages = vec!["en".to_owned()];
            if n % 3 == 0 {
                languages.push("sv".to_owned());
            }
            if n % 4 == 1 {
                languages.push("de".to_owned());
            }
            let skills = if n % 3 == 1 { vec!["billing".to_owned()] } else { Vec::new() };
            let profile = AgentProfile { id, languages, skills, capacity: 1 + n % 2 };
            let agent = SimAgent {
                profile,
                handle_mean: rng.gen_range(4 * MINUTE..12 * MINUTE),
                response_mean: rng.gen_range(3 * SECOND..9 * SECOND),
                miss_percent: if n % 10 == 9 { 40 } else { harness.params.miss_percent },
                connected: false,
                offer: None,
                chats: BTreeMap::new(),
            };
            harness.agents.insert(id, agent);
            // Everyone starts the day a few minutes in, then has their breaks and dropouts.
            harness.schedule(rng.gen_range(0..5 * MINUTE), Event::Reconnect(id));
            for _ in 0..harness.params.disconnects_per_agent {
                harness.schedule(rng.gen_range(10 * MINUTE..day), Event::Disconnect(id));
            }
            for _ in 0..harness.params.breaks_per_agent {
                harness.schedule(rng.gen_range(10 * MINUTE..day), Event::Break(id));
            }
        }
        for n in 0..harness.params.customers {
            // Half arrive evenly through the day, half around a midday peak.
            let at = if rng.gen_bool(0.5) {
                rng.gen_range(0..day)
            } else {
                let spread = rng.gen_range(-day / 5..day / 5) + rng.gen_range(-day / 5..day / 5);
                (day / 2 + spread).clamp(0, day - 1)
            };
            harness.schedule(at, Event::Arrive(n));
        }
        harness.rng = rng;
        harness
    }

    fn schedule(&mut self, at: Millis, event: Event) {
        self.event_serial += 1;
        self.events.push(Reverse((at, self.event_serial, event)));
    }

    fn violation(&mut self, what: &str) {
        self.report.violations.push(format!("at {}: {what}", seconds(self.now)));
    }

    fn run(&mut self) {
        while let Some(Reverse((at, _, event))) = self.events.pop() {
            self.now = at;
            self.step(event);
            if let Some(deadline) = self.dispatcher.next_deadline(self.now)
                && self.ticks.insert(deadline)
            {
                self.schedule(deadline, Event::Tick);
            }
        }
        self.finish();
    }

    fn step(&mut self, event: Event) {
        let now = self.now;
        let notices = match event {
            Event::Arrive(n) => self.arrive(n),
            Event::Answer { agent, conversation, offer, accept } => {
                let current = self.agents.get(&agent).and_then(|a| a.offer.clone());
                if current != Some((conversation.clone(), offer)) {
                    return; // Withdrawn or expired meanwhile.
                }
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.offer = None;
                }
                self.offered.remove(&conversation);
                if accept {
                    self.accepted(agent, &conversation)
                } else {
                    self.report.declined += 1;
                    self.dispatcher.decline(agent, &conversation, now)
                }
            }
            Event::Finish { agent, conversation, chat } => self.finish_chat(agent, &conversation, chat),
            Event::GiveUp(conversation) => {
                let Some(customer) = self.customers.get_mut(&conversation) else { return };
                if customer.ended || !self.dispatcher.is_waiting(&conversation) {
                    return;
                }
                customer.ended = true;
                if customer.answered_at.is_none() {
                    customer.left_message = true;
                }
                self.offered.remove(&conversation);
                self.forget_never_offered(&conversation);
                self.dispatcher.end(&conversation, now)
            }
            Event::Disconnect(agent) => {
                let Some(a) = self.agents.get_mut(&agent).filter(|a| a.connected) else { return };
                a.connected = false;
                // Back within the grace period, or well after it.
                let back_in = if self.rng.gen_bool(0.5) { 20 * SECOND } else { 3 * MINUTE };
                self.schedule(now + back_in, Event::Reconnect(agent));
                self.dispatcher.disconnect(agent, now)
            }
            Event::Reconnect(agent) => {
                let Some(a) = self.agents.get_mut(&agent).filter(|a| !a.connected) else { return };
                a.connected = true;
                let profile = a.profile.clone();
                self.dispatcher.connect(profile, now)
            }
            Event::Break(agent) => {
                let length = self.rng.gen_range(5 * MINUTE..15 * MINUTE);
                self.schedule(now + length, Event::Resume(agent));
                self.dispatcher.set_presence(agent, Presence::Away, now)
            }
            Event::Resume(agent) => self.dispatcher.set_presence(agent, Presence::Online, now),
            Event::Tick => {
                self.ticks.remove(&now);
                self.dispatcher.tick(now)
            }
        };
        self.deliver(notices);
    }

    fn arrive(&mut self, n: u32) -> Vec<Notice> {
        let now = self.now;
        let id = ConversationId(format!("c{n}"));
        let language = match self.rng.gen_range(0..10) {
            0..7 => "en",
            7..9 => "sv",
            _ => "de",
        };
        let skill = self.rng.gen_bool(0.1).then(|| "billing".to_owned());
        let need = Need::for_locale(language, skill);
        self.report.customers += 1;
        let mut customer = Customer {
            need: need.clone(),
            arrived_at: now,
            estimate: None,
            answered_at: None,
            left_message: false,
            ended: false,
        };
        if !self.dispatcher.anyone_available() {
            // The widget offers to leave a message when nobody is online.
            customer.left_message = true;
            customer.ended = true;
            self.customers.insert(id, customer);
            return Vec::new();
        }
        self.customers.insert(id.clone(), customer);
        self.never_offered.entry(need.clone()).or_default().push(id.clone());
        let patience = self.rng.gen_range(10 * MINUTE..30 * MINUTE);
        self.schedule(now + patience, Event::GiveUp(id.clone()));
        let notices = self.dispatcher.enqueue(id.clone(), need, now);
        let estimate = self.dispatcher.estimated_wait(&id, now);
        if let Some(customer) = self.customers.get_mut(&id) {
            customer.estimate = estimate;
        }
        notices
    }

    fn accepted(&mut self, agent: AgentId, conversation: &ConversationId) -> Vec<Notice> {
        let now = self.now;
        let (result, notices) = self.dispatcher.accept(agent, conversation, now);
        if let Err(refusal) = result {
            self.violation(&format!(
                "agent {agent} could not accept {conversation} offered to them: {refusal:?}"
            ));
            return notices;
        }
        self.serial += 1;
        let chat = self.serial;
        let Some(a) = self.agents.get_mut(&agent) else { return notices };
        let handle = a.handle_mean * self.rng.gen_range(60..=140) / 100;
        a.chats.insert(conversation.clone(), chat);
        self.schedule(now + handle, Event::Finish { agent, conversation: conversation.clone(), chat });
        if let Some(customer) = self.customers.get_mut(conversation)
            && customer.answered_at.is_none()
        {
            customer.answered_at = Some(now);
        }
        notices
    }

    fn finish_chat(&mut self, agent: AgentId, conversation: &ConversationId, chat: u64) -> Vec<Notice> {
        let now = self.now;
        let Some(a) = self.agents.get_mut(&agent) else { return Vec::new() };
        if a.chats.get(conversation) != Some(&chat) {
            return Vec::new(); // The chat went back to the queue meanwhile.
        }
        if !a.connected {
            // Cut off mid-chat: they finish once back (or the chat returns to the queue).
            self.schedule(
                now + 30 * SECOND,
                Event::Finish { agent, conversation: conversation.clone(), chat },
            );
            return Vec::new();
        }
        a.chats.remove(conversation);
        if !self.dispatcher.chats_of(agent).contains(conversation) {
            self.violation(&format!("{conversation} was lost: agent {agent} still had it"));
            return Vec::new();
        }
        if self.rng.gen_range(0..100) < self.params.give_back_percent {
            self.report.returned_to_queue += 1;
            let (result, notices) = self.dispatcher.give_back(agent, conversation, None, now);
            if let Err(refusal) = result {
                self.violation(&format!("agent {agent} could not give back {conversation}: {refusal:?}"));
            }
            let patience = self.rng.gen_range(10 * MINUTE..30 * MINUTE);
            self.schedule(now + patience, Event::GiveUp(conversation.clone()));
            return notices;
        }
        if let Some(customer) = self.customers.get_mut(conversation) {
            customer.ended = true;
        }
        self.dispatcher.end(conversation, now)
    }

    fn forget_never_offered(&mut self, conversation: &ConversationId) {
        for list in self.never_offered.values_mut() {
            list.retain(|c| c != conversation);
        }
    }

    fn deliver(&mut self, notices: Vec<Notice>) {
        let now = self.now;
        for notice in notices {
            match notice {
                Notice::Offered { agent, conversation, expires_at } => {
                    self.report.offers += 1;
                    if let Some(other) = self.offered.insert(conversation.clone(), agent) {
                        self.violation(&format!(
                            "{conversation} offered to agent {agent} while offered to {other}"
                        ));
                    }
                    if expires_at != now + self.params.settings.offer_timeout_ms {
                        self.violation(&format!("offer of {conversation} expires at {expires_at}"));
                    }
                    self.check_fifo(&conversation);
                    self.serial += 1;
                    let offer = self.serial;
                    let Some(a) = self.agents.get_mut(&agent) else { continue };
                    if !a.connected {
                        self.report
                            .violations
                            .push(format!("{conversation} offered to disconnected agent {agent}"));
                    }
                    if let Some((previous, _)) = a.offer.replace((conversation.clone(), offer)) {
                        self.report
                            .violations
                            .push(format!("agent {agent} offered {conversation} while holding {previous}"));
                    }
                    let response = a.response_mean * self.rng.gen_range(70..=130) / 100;
                    let miss_percent = a.miss_percent;
                    let roll = self.rng.gen_range(0..100);
                    if roll < miss_percent {
                        continue; // Lets it expire.
                    }
                    let accept = roll >= miss_percent + self.params.decline_percent;
                    self.schedule(now + response, Event::Answer { agent, conversation, offer, accept });
                }
                Notice::OfferExpired { agent, conversation } => {
                    self.report.expired += 1;
                    self.offer_over(agent, &conversation);
                }
                Notice::OfferWithdrawn { agent, conversation } => self.offer_over(agent, &conversation),
                Notice::WentAway { agent } => {
                    self.report.went_away += 1;
                    // The console told them; they notice a few minutes later.
                    let after = self.rng.gen_range(2 * MINUTE..6 * MINUTE);
                    self.schedule(now + after, Event::Resume(agent));
                }
                Notice::ReturnedToQueue { agent, conversation } => {
                    self.report.returned_to_queue += 1;
                    if let Some(a) = self.agents.get_mut(&agent) {
                        a.chats.remove(&conversation);
                    }
                    if !self.dispatcher.is_waiting(&conversation)
                        && !self.dispatcher_has_active(&conversation)
                    {
                        self.violation(&format!(
                            "{conversation} left {agent} but is neither waiting nor taken"
                        ));
                    }
                    let patience = self.rng.gen_range(10 * MINUTE..30 * MINUTE);
                    self.schedule(now + patience, Event::GiveUp(conversation));
                }
            }
        }
    }

    fn offer_over(&mut self, agent: AgentId, conversation: &ConversationId) {
        if self.offered.get(conversation) == Some(&agent) {
            self.offered.remove(conversation);
        }
        if let Some(a) = self.agents.get_mut(&agent)
            && a.offer.as_ref().is_some_and(|(c, _)| c == conversation)
        {
            a.offer = None;
        }
        if self.dispatcher.offer_of(agent).is_some_and(|(c, _)| &c == conversation) {
            self.violation(&format!("{conversation} still offered to {agent} after the offer ended"));
        }
    }

    fn dispatcher_has_active(&self, conversation: &ConversationId) -> bool {
        self.agents.keys().any(|agent| self.dispatcher.chats_of(*agent).contains(conversation))
    }

    /// A first offer must go to the earliest never-offered conversation with the same need.
    fn check_fifo(&mut self, conversation: &ConversationId) {
        let Some(customer) = self.customers.get(conversation) else { return };
        let need = customer.need.clone();
        let Some(list) = self.never_offered.get_mut(&need) else { return };
        let Some(index) = list.iter().position(|c| c == conversation) else { return };
        let earlier = list[0].clone();
        list.remove(index);
        if index > 0 {
            self.violation(&format!(
                "{conversation} offered before {earlier}, which arrived first with the same need"
            ));
        }
    }

    fn finish(&mut self) {
        let mut times = Vec::new();
        let mut errors = Vec::new();
        let ids: Vec<ConversationId> = self.customers.keys().cloned().collect();
        for id in ids {
            let Some(customer) = self.customers.get(&id) else { continue };
            if let Some(answered_at) = customer.answered_at {
                self.report.answered += 1;
                let waited = answered_at - customer.arrived_at;
                times.push(waited);
                if let Some(estimate) = customer.estimate {
                    let actual = waited.max(SECOND);
                    errors.push((estimate - actual).abs() * 100 / actual);
                }
            } else if customer.left_message {
                self.report.left_message += 1;
            } else {
                self.report
                    .violations
                    .push(format!("{id} was neither answered nor offered to leave a message"));
            }
            if !customer.ended {
                self.report.violations.push(format!("{id} never ended: the chat was lost"));
            }
        }
        if !self.dispatcher.queue().is_empty() {
            self.report.violations.push(format!("still waiting at the end: {:?}", self.dispatcher.queue()));
        }
        times.sort_unstable();
        errors.sort_unstable();
        self.report.time_to_human_p50_ms = percentile(&times, 50);
        self.report.time_to_human_p90_ms = percentile(&times, 90);
        self.report.wait_estimate_mdape_percent = u32::try_from(percentile(&errors, 50)).unwrap_or(u32::MAX);
    }
}

/// The `p`th percentile of sorted values (nearest rank).
fn percentile(sorted: &[Millis], p: usize) -> Millis {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}
