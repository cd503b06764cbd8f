//! The flow format merchants author (JSON; see `docs/bot-flows.md`) and its validation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Text per language code (`"en"`, `"sv"`, `"de"`…).
pub type Localized = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Format version; this engine reads 1.
    pub version: u32,
    /// Languages the flow answers in; every text must exist in each.
    pub languages: Vec<String>,
    /// Said when no intent matches well enough.
    pub fallback: Localized,
    /// Said when the bot offers a person (the customer still chooses).
    pub offer_human: Localized,
    pub intents: Vec<Intent>,
    #[serde(default)]
    pub escalation: Escalation,
    /// Topics the greeting offers as quick replies, per language: intent ids, at most
    /// [`MAX_STARTERS`] for each, so that a customer can get an answer (or reach a person)
    /// with taps alone. Each is labelled with its intent's first example phrase.
    #[serde(default)]
    pub starters: BTreeMap<String, Vec<String>>,
}

/// Global rules for handing over to a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Escalation {
    /// Offer a person after this many fallbacks in a row.
    pub max_fallbacks: u32,
    /// Extra phrases, per language, that ask for a person (added to the built-in ones).
    pub human_phrases: BTreeMap<String, Vec<String>>,
    /// Extra words, per language, that show frustration (added to the built-in ones).
    pub frustration_markers: BTreeMap<String, Vec<String>>,
}

impl Default for Escalation {
    fn default() -> Self {
        Self { max_fallbacks: 2, human_phrases: BTreeMap::new(), frustration_markers: BTreeMap::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub id: String,
    /// Example phrases per language: what customers say when they mean this.
    pub examples: BTreeMap<String, Vec<String>>,
    /// Words that, when present, make this intent more likely (per language).
    #[serde(default)]
    pub keywords: BTreeMap<String, Vec<String>>,
    pub answer: Answer,
    /// Details to capture before answering, in order.
    #[serde(default)]
    pub slots: Vec<Slot>,
    /// Intents offered as quick replies after the answer.
    #[serde(default)]
    pub follow_ups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// May name captured slots as `{slot}`.
    pub text: Localized,
    #[serde(default)]
    pub quick_replies: Vec<QuickReply>,
    #[serde(default)]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickReply {
    pub label: Localized,
    /// The intent a click answers.
    pub intent: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub label: Localized,
    /// An https URL.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub name: String,
    pub kind: SlotKind,
    pub prompt: Localized,
    /// Said when the answer does not fit the kind.
    pub reprompt: Localized,
}

/// Read as its flat fields rather than through serde's buffering of internally tagged enums,
/// whose code the widget would download (see `tandem_protocol::customer_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "SlotKindFields")]
pub enum SlotKind {
    /// A run of digits (optionally with a leading `#`) of this length range.
    OrderNumber {
        min_digits: u8,
        max_digits: u8,
    },
    Email,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum SlotKindName {
    OrderNumber,
    Email,
}

/// Other keys are ignored, as serde ignored them on `email` before (flows stored then still read).
#[derive(Deserialize)]
struct SlotKindFields {
    r#type: SlotKindName,
    min_digits: Option<u8>,
    max_digits: Option<u8>,
}

impl TryFrom<SlotKindFields> for SlotKind {
    type Error = &'static str;

    fn try_from(fields: SlotKindFields) -> Result<Self, Self::Error> {
        match (fields.r#type, fields.min_digits, fields.max_digits) {
            (SlotKindName::OrderNumber, Some(min_digits), Some(max_digits)) => {
                Ok(Self::OrderNumber { min_digits, max_digits })
            }
            (SlotKindName::OrderNumber, _, _) => Err("an order_number slot needs min_digits and max_digits"),
            (SlotKindName::Email, _, _) => Ok(Self::Email),
        }
    }
}

/// One thing wrong with a flow, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowProblem {
    /// A path such as `intents[3].answer.text.sv`.
    pub location: String,
    pub problem: String,
}

impl fmt::Display for FlowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

const MAX_INTENTS: usize = 1000;
/// Starter topics per language: more would push the human button down on a phone.
pub const MAX_STARTERS: usize = 6;
const MAX_TEXT: usize = 4000;

struct Checker<'a> {
    languages: &'a [String],
    problems: Vec<FlowProblem>,
}

impl Checker<'_> {
    fn report(&mut self, location: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(FlowProblem { location: location.into(), problem: problem.into() });
    }

    fn localized(&mut self, location: &str, text: &Localized) {
        for language in self.languages {
            match text.get(language) {
                None => self.report(format!("{location}.{language}"), "missing"),
                Some(t) if t.trim().is_empty() => self.report(format!("{location}.{language}"), "empty"),
                Some(t) if t.chars().count() > MAX_TEXT => {
                    self.report(format!("{location}.{language}"), "longer than 4000 characters");
                }
                Some(_) => {}
            }
        }
        for language in text.keys() {
            if !self.languages.contains(language) {
                self.report(format!("{location}.{language}"), "language not listed in `languages`");
            }
        }
    }
}

impl Flow {
    /// Every problem of the flow, with its location; empty when the flow can be used.
    pub fn problems(&self) -> Vec<FlowProblem> {
        let mut check = Checker { languages: &self.languages, problems: Vec::new() };
        if self.version != 1 {
            check.report("version", format!("this engine reads version 1, not {}", self.version));
        }
        if self.languages.is_empty() {
            check.report("languages", "list at least one language");
        }
        check.localized("fallback", &self.fallback);
        check.localized("offer_human", &self.offer_human);
        if self.intents.is_empty() {
            check.report("intents", "define at least one intent");
        }
        if self.intents.len() > MAX_INTENTS {
            check.report("intents", format!("at most {MAX_INTENTS} intents"));
        }
        let ids: BTreeSet<&str> = self.intents.iter().map(|i| i.id.as_str()).collect();
        let mut seen = BTreeSet::new();
        for (index, intent) in self.intents.iter().enumerate() {
            let at = format!("intents[{index}]");
            if intent.id.trim().is_empty() {
                check.report(format!("{at}.id"), "empty");
            } else if !seen.insert(intent.id.as_str()) {
                check.report(format!("{at}.id"), format!("duplicate id \"{}\"", intent.id));
            }
            for language in &self.languages {
                let count = intent.examples.get(language).map_or(0, |examples| {
                    examples.iter().filter(|e| !crate::normalize(e).is_empty()).count()
                });
                if count == 0 {
                    check.report(format!("{at}.examples.{language}"), "give at least one example phrase");
                }
            }
            check.localized(&format!("{at}.answer.text"), &intent.answer.text);
            for (r, reply) in intent.answer.quick_replies.iter().enumerate() {
                check.localized(&format!("{at}.answer.quick_replies[{r}].label"), &reply.label);
                if !ids.contains(reply.intent.as_str()) {
                    check.report(
                        format!("{at}.answer.quick_replies[{r}].intent"),
                        format!("no intent \"{}\"", reply.intent),
                    );
                }
            }
            for (l, link) in intent.answer.links.iter().enumerate() {
                check.localized(&format!("{at}.answer.links[{l}].label"), &link.label);
                if !link.url.starts_with("https://") {
                    check.report(format!("{at}.answer.links[{l}].url"), "links must be https URLs");
                }
            }
            for (s, slot) in intent.slots.iter().enumerate() {
                check.localized(&format!("{at}.slots[{s}].prompt"), &slot.prompt);
                check.localized(&format!("{at}.slots[{s}].reprompt"), &slot.reprompt);
                if let SlotKind::OrderNumber { min_digits, max_digits } = slot.kind
                    && (min_digits == 0 || min_digits > max_digits || max_digits > 32)
                {
                    check.report(format!("{at}.slots[{s}].kind"), "digits must satisfy 1 ≤ min ≤ max ≤ 32");
                }
            }
            for (f, follow_up) in intent.follow_ups.iter().enumerate() {
                if !ids.contains(follow_up.as_str()) {
                    check.report(format!("{at}.follow_ups[{f}]"), format!("no intent \"{follow_up}\""));
                }
            }
        }
        self.check_starters(&mut check, &ids);
        check.problems
    }

    fn check_starters(&self, check: &mut Checker<'_>, ids: &BTreeSet<&str>) {
        for (language, starters) in &self.starters {
            let at = format!("starters.{language}");
            if !self.languages.contains(language) {
                check.report(&at, "language not listed in `languages`");
            }
            if starters.len() > MAX_STARTERS {
                check.report(&at, format!("at most {MAX_STARTERS} topics"));
            }
            let mut listed = BTreeSet::new();
            for (index, id) in starters.iter().enumerate() {
                if !ids.contains(id.as_str()) {
                    check.report(format!("{at}[{index}]"), format!("no intent \"{id}\""));
                } else if !listed.insert(id.as_str()) {
                    check.report(format!("{at}[{index}]"), format!("\"{id}\" is listed twice"));
                }
            }
        }
    }
}
