//! One customer turn: escalation first, then a pending slot, then intent matching.

use std::collections::BTreeMap;

use crate::escalation::{EscalationReason, Rules};
use crate::flow::{Flow, FlowProblem, Intent, Localized, SlotKind};
use crate::matcher::Index;
use crate::normalize::normalize;

/// Below this similarity the bot says it did not understand rather than guess.
const CONFIDENCE_THRESHOLD: f32 = 0.42;
/// Added to an intent's score when the text has one of its keywords.
const KEYWORD_BOOST: f32 = 0.15;
/// Longer input is cut here, so that a turn takes bounded time whatever is pasted in.
const MAX_INPUT_CHARS: usize = 1000;

/// A validated flow, ready to answer.
#[derive(Debug)]
pub struct Bot {
    flow: Flow,
    index: Index,
    rules: Rules,
    /// Per intent, per language: normalised keywords.
    keywords: Vec<BTreeMap<String, Vec<String>>>,
}

/// What the bot remembers of one conversation between turns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    consecutive_fallbacks: u32,
    /// (intent, slot) the bot asked for and waits on.
    pending_slot: Option<(usize, usize)>,
    /// Captured values by slot name.
    pub slots: BTreeMap<String, String>,
}

/// The bot's answer to one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    /// (label, intent id) buttons.
    pub quick_replies: Vec<(String, String)>,
    /// (label, https URL).
    pub links: Vec<(String, String)>,
    /// The intent answered, if any.
    pub intent: Option<String>,
    /// Similarity of the best match, 0..=1 (1 for explicit requests and quick replies).
    pub confidence: f32,
    /// The customer asked for a person: start the handoff now.
    pub handoff: Option<EscalationReason>,
    /// The bot offers a person; the customer chooses.
    pub offer_human: Option<EscalationReason>,
}

impl Bot {
    /// Validates `flow`; every problem is returned with its location.
    pub fn new(flow: Flow) -> Result<Self, Vec<FlowProblem>> {
        let problems = flow.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self::prepare(flow))
    }

    /// Prepares a flow that was validated where it was stored (the server refuses invalid
    /// ones), sparing the browser the validator's code. An invalid flow still never panics:
    /// missing texts read as empty and unknown intents are skipped.
    pub fn trusted(flow: Flow) -> Self {
        Self::prepare(flow)
    }

    fn prepare(flow: Flow) -> Self {
        let keywords = flow
            .intents
            .iter()
            .map(|intent| {
                // By insertion, not `collect()`: see `matcher::LanguageIndex::build`.
                let mut normalized = BTreeMap::new();
                for (language, words) in &intent.keywords {
                    let words = words.iter().map(|w| normalize(w)).filter(|w| !w.is_empty()).collect();
                    normalized.insert(language.clone(), words);
                }
                normalized
            })
            .collect();
        Self { index: Index::new(&flow.intents), rules: Rules::new(&flow.escalation), keywords, flow }
    }

    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// The topics the greeting offers in (the flow's language closest to) `language`, as quick
    /// replies: each its label and intent.
    pub fn starters(&self, language: &str) -> Vec<(String, String)> {
        let language = self.language(language);
        let ids = self.flow.starters.get(&language).map_or(&[][..], Vec::as_slice);
        ids.iter().filter_map(|id| self.topic(id, &language)).collect()
    }

    /// An intent offered as a quick reply: labelled with its first example phrase.
    fn topic(&self, id: &str, language: &str) -> Option<(String, String)> {
        let intent = self.flow.intents.iter().find(|intent| intent.id == id)?;
        let example = intent.examples.get(language)?.first()?;
        Some((example.clone(), intent.id.clone()))
    }

    /// The flow's language closest to `requested` (`sv-SE` → `sv`), else its first.
    pub fn language(&self, requested: &str) -> String {
        let primary = requested.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        let languages = &self.flow.languages;
        languages.iter().find(|l| **l == primary).or_else(|| languages.first()).cloned().unwrap_or_default()
    }

    fn text(&self, localized: &Localized, language: &str) -> String {
        localized.get(language).or_else(|| localized.values().next()).cloned().unwrap_or_default()
    }

    /// Answers what the customer typed.
    pub fn turn(&self, state: &mut State, language: &str, input: &str) -> Reply {
        let language = self.language(language);
        let input: String = input.chars().take(MAX_INPUT_CHARS).collect();
        let normalized = normalize(&input);

        if self.rules.asks_for_human(&normalized) {
            state.consecutive_fallbacks = 0;
            state.pending_slot = None;
            return Reply {
                text: self.text(&self.flow.offer_human, &language),
                handoff: Some(EscalationReason::ExplicitRequest),
                confidence: 1.0,
                ..self.empty()
            };
        }
        let frustrated = self.rules.frustrated(&input, &normalized);

        if let Some((intent, slot)) = state.pending_slot {
            let captured = self.capture(intent, slot, &input);
            let mut reply = match captured {
                Some(value) => {
                    let name = self.flow.intents[intent].slots[slot].name.clone();
                    state.slots.insert(name, value);
                    state.pending_slot = None;
                    self.answer(state, intent, &language, 1.0)
                }
                None => {
                    let slot = &self.flow.intents[intent].slots[slot];
                    Reply { text: self.text(&slot.reprompt, &language), ..self.empty() }
                }
            };
            if frustrated {
                reply.offer_human = Some(EscalationReason::Frustration);
            }
            return reply;
        }

        let best = self.best_intent(&language, &normalized);
        let mut reply = match best {
            Some((intent, confidence)) if confidence >= CONFIDENCE_THRESHOLD => {
                state.consecutive_fallbacks = 0;
                self.answer(state, intent, &language, confidence)
            }
            _ => {
                state.consecutive_fallbacks = state.consecutive_fallbacks.saturating_add(1);
                let mut reply = Reply {
                    text: self.text(&self.flow.fallback, &language),
                    confidence: best.map_or(0.0, |(_, c)| c),
                    ..self.empty()
                };
                // Offer the likeliest topics as choices, next to the human button.
                reply.quick_replies = self.suggestions(&language, &normalized);
                if state.consecutive_fallbacks >= self.rules.max_fallbacks.max(1) {
                    reply.offer_human = Some(EscalationReason::RepeatedFallback);
                }
                reply
            }
        };
        if frustrated {
            reply.offer_human = Some(EscalationReason::Frustration);
        }
        reply
    }

    /// The likeliest intent and its confidence: example similarity, plus a boost for keywords
    /// (a keyword matches a word it begins, so "delbetalning" also finds "delbetalningen").
    fn best_intent(&self, language: &str, normalized: &str) -> Option<(usize, f32)> {
        let mut scores = self.index.scores(&self.flow.intents, language, normalized);
        let words: Vec<&str> = normalized.split(' ').collect();
        for (intent, score) in scores.iter_mut().enumerate() {
            let keywords = self.keywords.get(intent).and_then(|k| k.get(language));
            let hit = keywords.is_some_and(|keywords| {
                keywords.iter().any(|keyword| {
                    words.iter().any(|word| {
                        *word == keyword || (keyword.len() >= 4 && word.starts_with(keyword.as_str()))
                    })
                })
            });
            if hit && *score > 0.0 {
                *score = (*score + KEYWORD_BOOST).min(1.0);
            }
        }
        // Strictly greater: ties go to the earlier intent, so results are deterministic.
        scores.into_iter().enumerate().fold(None, |best, (intent, score)| match best {
            Some((_, top)) if score <= top => best,
            _ if score > 0.0 => Some((intent, score)),
            _ => best,
        })
    }

    /// Answers a quick reply the customer clicked.
    pub fn choose(&self, state: &mut State, language: &str, intent_id: &str) -> Reply {
        let language = self.language(language);
        match self.flow.intents.iter().position(|i| i.id == intent_id) {
            Some(intent) => {
                state.consecutive_fallbacks = 0;
                state.pending_slot = None;
                self.answer(state, intent, &language, 1.0)
            }
            None => Reply { text: self.text(&self.flow.fallback, &language), ..self.empty() },
        }
    }

    fn empty(&self) -> Reply {
        Reply {
            text: String::new(),
            quick_replies: Vec::new(),
            links: Vec::new(),
            intent: None,
            confidence: 0.0,
            handoff: None,
            offer_human: None,
        }
    }

    /// Asks for the intent's first missing slot, or answers it.
    fn answer(&self, state: &mut State, intent_index: usize, language: &str, confidence: f32) -> Reply {
        let intent: &Intent = &self.flow.intents[intent_index];
        if let Some((slot_index, slot)) =
            intent.slots.iter().enumerate().find(|(_, slot)| !state.slots.contains_key(&slot.name))
        {
            state.pending_slot = Some((intent_index, slot_index));
            return Reply {
                text: self.text(&slot.prompt, language),
                intent: Some(intent.id.clone()),
                confidence,
                ..self.empty()
            };
        }
        let mut text = self.text(&intent.answer.text, language);
        for (name, value) in &state.slots {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        let mut quick_replies: Vec<(String, String)> = intent
            .answer
            .quick_replies
            .iter()
            .map(|reply| (self.text(&reply.label, language), reply.intent.clone()))
            .collect();
        quick_replies.extend(intent.follow_ups.iter().filter_map(|id| self.topic(id, language)));
        Reply {
            text,
            quick_replies,
            links: intent
                .answer
                .links
                .iter()
                .map(|l| (self.text(&l.label, language), l.url.clone()))
                .collect(),
            intent: Some(intent.id.clone()),
            confidence,
            ..self.empty()
        }
    }

    /// Up to three intents to offer after a fallback: the first example of each of the flow's
    /// first intents, so the customer sees what the bot can do.
    fn suggestions(&self, language: &str, _normalized: &str) -> Vec<(String, String)> {
        self.flow
            .intents
            .iter()
            .filter_map(|intent| {
                let label = intent.examples.get(language)?.first()?;
                Some((label.clone(), intent.id.clone()))
            })
            .take(3)
            .collect()
    }

    fn capture(&self, intent: usize, slot: usize, input: &str) -> Option<String> {
        let kind = self.flow.intents.get(intent)?.slots.get(slot)?.kind;
        input.split(|c: char| c.is_ascii_whitespace() || c == ',' || c == ';').find_map(|token| match kind {
            SlotKind::OrderNumber { min_digits, max_digits } => {
                let digits = token.trim_start_matches('#').trim_end_matches(['.', '!', '?']);
                let ok = !digits.is_empty()
                    && digits.chars().all(|c| c.is_ascii_digit())
                    && (usize::from(min_digits)..=usize::from(max_digits)).contains(&digits.len());
                ok.then(|| digits.to_owned())
            }
            SlotKind::Email => {
                let candidate = token.trim_matches(|c: char| !crate::normalize::is_word_char(c) && c != '.');
                let (local, domain) = candidate.split_once('@')?;
                let ok = !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@');
                ok.then(|| candidate.to_owned())
            }
        })
    }
}
