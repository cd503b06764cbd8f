//! The bot conversation in the browser: the merchant's flow, fetched from the server, answered
//! by `tandem-bot` locally. Nothing typed here leaves the page until the customer asks for a
//! person; then the transcript travels with the handoff.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_bot::{Bot, Flow, Reply, State};
use tandem_browser::fetch_json;
use tandem_protocol::{EscalationReason, HandoffReason, MerchantId, TranscriptEntry, TranscriptSpeaker};

use crate::handoff::Handoff;
use crate::i18n::I18n;

/// One line of the bot conversation, with what the customer can click next.
/// The id of the line that holds the greeting's starter topics (never one of what was said).
pub const STARTERS: usize = usize::MAX;

#[derive(Debug, Clone, PartialEq)]
pub struct BotLine {
    pub id: usize,
    pub from: TranscriptSpeaker,
    pub text: String,
    /// (label, intent id).
    pub quick_replies: Vec<(String, String)>,
    /// (label, https URL).
    pub links: Vec<(String, String)>,
}

#[derive(Clone, Copy)]
pub struct BotChat {
    bot: RwSignal<Option<Arc<Bot>>>,
    pub lines: RwSignal<Vec<BotLine>>,
    /// The bot offers a person, and why.
    pub offer: RwSignal<Option<EscalationReason>>,
    state: StoredValue<State>,
    i18n: I18n,
}

impl BotChat {
    /// Starts fetching the merchant's flow, unless the loader has (`fetched`); until it arrives
    /// (or if there is none) the panel still offers a person.
    // Kept out of the widget's start, which inlines it otherwise: smaller as served (measured).
    #[inline(never)]
    pub fn load(api_origin: &str, merchant: &MerchantId, i18n: I18n, fetched: Option<Flow>) -> Self {
        let chat = Self {
            bot: RwSignal::new(fetched.map(|flow| Arc::new(Bot::trusted(flow)))),
            lines: RwSignal::new(Vec::new()),
            offer: RwSignal::new(None),
            state: StoredValue::new(State::default()),
            i18n,
        };
        if chat.available() {
            return chat;
        }
        let url = format!("{api_origin}/v1/merchants/{merchant}/bot-flow");
        spawn_local(async move {
            // The server validated the flow when it was stored. Without one the widget has no
            // bot, never no person.
            let flow = fetch_json::<(), Flow>("GET", &url, None).await;
            let bot = flow.ok().map(Bot::trusted);
            chat.bot.set(bot.map(Arc::new));
        });
        chat
    }

    pub fn available(self) -> bool {
        self.bot.with(Option::is_some)
    }

    /// The lines to draw: the topics the greeting offers (in the panel's language, once the
    /// flow is here) as a line of their own, [`STARTERS`], then what was said.
    pub fn lines_after_starters(self) -> Vec<BotLine> {
        let language = self.i18n.locale().language();
        let starters =
            self.bot.with(|bot| bot.as_ref().map(|bot| bot.starters(language)).unwrap_or_default());
        let mut lines = Vec::with_capacity(1);
        if !starters.is_empty() {
            let from = TranscriptSpeaker::Bot;
            lines.push(BotLine {
                id: STARTERS,
                from,
                text: String::new(),
                quick_replies: starters,
                links: Vec::new(),
            });
        }
        lines.extend(self.lines.get());
        lines
    }

    fn push(self, from: TranscriptSpeaker, reply: Option<&Reply>, text: String) {
        self.lines.update(|lines| {
            let id = lines.len();
            lines.push(BotLine {
                id,
                from,
                text,
                quick_replies: reply.map(|r| r.quick_replies.clone()).unwrap_or_default(),
                links: reply.map(|r| r.links.clone()).unwrap_or_default(),
            });
        });
    }

    /// Everything said so far, for the agent.
    pub fn transcript(self) -> Vec<TranscriptEntry> {
        let greeting = self.i18n.locale_untracked().text("bot.greeting").to_owned();
        let mut transcript = vec![TranscriptEntry { from: TranscriptSpeaker::Bot, text: greeting }];
        self.lines.with_untracked(|lines| {
            transcript.extend(
                lines.iter().map(|line| TranscriptEntry { from: line.from, text: line.text.clone() }),
            );
        });
        transcript
    }

    /// The customer typed to the bot.
    pub fn say(self, text: String, handoff: Handoff) {
        let Some(bot) = self.bot.get_untracked() else { return };
        let locale = self.i18n.locale_untracked().language();
        let reply = self.state.try_update_value(|state| bot.turn(state, locale, &text));
        self.push(TranscriptSpeaker::Customer, None, text);
        if let Some(reply) = reply {
            self.answer(&reply, handoff);
        }
    }

    /// The customer clicked a quick reply.
    pub fn choose(self, label: String, intent: &str, handoff: Handoff) {
        let Some(bot) = self.bot.get_untracked() else { return };
        let locale = self.i18n.locale_untracked().language();
        let reply = self.state.try_update_value(|state| bot.choose(state, locale, intent));
        self.push(TranscriptSpeaker::Customer, None, label);
        if let Some(reply) = reply {
            self.answer(&reply, handoff);
        }
    }

    fn answer(self, reply: &Reply, handoff: Handoff) {
        self.push(TranscriptSpeaker::Bot, Some(reply), reply.text.clone());
        if let Some(reason) = reply.handoff {
            self.offer.set(None);
            handoff.start(self.transcript(), HandoffReason::TypedRequest, Some(reason));
        } else {
            self.offer.set(reply.offer_human);
        }
    }

    /// The customer took the bot's offer of a person.
    pub fn accept_offer(self, handoff: Handoff) {
        let reason = self.offer.get_untracked();
        self.offer.set(None);
        handoff.start(self.transcript(), HandoffReason::BotOffer, reason);
    }
}
