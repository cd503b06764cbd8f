//! When the customer wants or needs a person.

pub use tandem_protocol::EscalationReason;

use std::collections::BTreeMap;

use crate::flow::Escalation;
use crate::normalize::{normalize, words};

/// Built-in phrases asking for a person, normalised, per language. Merchants add their own.
const HUMAN_PHRASES: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "human",
            "a person",
            "real person",
            "real human",
            "live person",
            "agent",
            "live agent",
            "representative",
            "operator",
            "customer service",
            "customer support",
            "talk to someone",
            "speak to someone",
            "talk to somebody",
            "speak to somebody",
            "talk to a person",
            "speak to a person",
            "someone real",
            "support staff",
            "staff member",
            "call me",
            "not a bot",
            "no bot",
            "stop bot",
        ],
    ),
    (
        "sv",
        &[
            "manniska",
            "en manniska",
            "riktig person",
            "levande person",
            "kundtjanst",
            "kundservice",
            "handlaggare",
            "prata med nagon",
            "tala med nagon",
            "prata med en person",
            "personalen",
            "ring mig",
            "inte en bot",
            "ingen bot",
            "riktig manniska",
            "kundsupport",
        ],
    ),
    (
        "de",
        &[
            "mensch",
            "menschen",
            "einem menschen",
            "echte person",
            "echten person",
            "mitarbeiter",
            "mitarbeiterin",
            "kundendienst",
            "kundenservice",
            "berater",
            "beraterin",
            "jemandem sprechen",
            "mit jemandem",
            "person sprechen",
            "kein bot",
            "keinen bot",
            "ruf mich an",
            "rufen sie mich an",
            "kundensupport",
        ],
    ),
];

/// Built-in words that show frustration, normalised, per language.
const FRUSTRATION: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "useless",
            "stupid",
            "ridiculous",
            "terrible",
            "awful",
            "angry",
            "furious",
            "wtf",
            "hate",
            "worst",
            "pathetic",
            "scam",
            "annoying",
            "fed up",
            "sick of",
            "waste of time",
            "not helpful",
            "doesnt help",
            "does not help",
            "idiot",
            "is a joke",
        ],
    ),
    (
        "sv",
        &[
            "vardelos",
            "vardelost",
            "dum",
            "dumt",
            "arg",
            "forbannad",
            "skandal",
            "hopplost",
            "bedrovligt",
            "trott pa",
            "less pa",
            "hjalper inte",
            "fattar inte",
            "idiot",
            "ar ett skamt",
            "bluff",
        ],
    ),
    (
        "de",
        &[
            "nutzlos",
            "blod",
            "dumm",
            "scheisse",
            "mist",
            "sauer",
            "wutend",
            "argerlich",
            "frechheit",
            "katastrophe",
            "unverschamt",
            "hilft nicht",
            "verstehst nicht",
            "idiot",
            "betrug",
            "ist ein witz",
            "nervt",
        ],
    ),
];

/// The escalation rules of one flow: built-in phrases plus the merchant's, normalised.
#[derive(Debug, Default)]
pub struct Rules {
    human: BTreeMap<String, Vec<String>>,
    frustration: BTreeMap<String, Vec<String>>,
    pub max_fallbacks: u32,
}

fn merge(
    builtin: &[(&str, &[&str])],
    extra: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (language, phrases) in builtin {
        all.entry((*language).to_owned()).or_default().extend(phrases.iter().map(|p| (*p).to_owned()));
    }
    for (language, phrases) in extra {
        all.entry(language.clone()).or_default().extend(phrases.iter().map(|p| normalize(p)));
    }
    for phrases in all.values_mut() {
        phrases.retain(|p| !p.is_empty());
    }
    all
}

/// Whether `phrase` occurs in `normalized` as whole words.
fn contains_phrase(padded: &str, phrase: &str) -> bool {
    padded.contains(&format!(" {phrase} "))
}

impl Rules {
    pub fn new(escalation: &Escalation) -> Self {
        Self {
            human: merge(HUMAN_PHRASES, &escalation.human_phrases),
            frustration: merge(FRUSTRATION, &escalation.frustration_markers),
            max_fallbacks: escalation.max_fallbacks,
        }
    }

    /// Explicit requests are recognised in every language, whatever the page's language:
    /// a Swede on an English page who writes "kundtjänst" means it.
    pub fn asks_for_human(&self, normalized: &str) -> bool {
        let padded = format!(" {normalized} ");
        self.human.values().flatten().any(|phrase| contains_phrase(&padded, phrase))
    }

    pub fn frustrated(&self, raw: &str, normalized: &str) -> bool {
        let padded = format!(" {normalized} ");
        if self.frustration.values().flatten().any(|marker| contains_phrase(&padded, marker)) {
            return true;
        }
        let exclamations = raw.chars().filter(|c| *c == '!').count();
        let letters: Vec<char> =
            raw.chars().filter(|c| c.is_ascii_alphabetic() || ('À'..='ÿ').contains(c)).collect();
        let upper = |c: &&char| c.is_ascii_uppercase() || ('À'..='Þ').contains(*c);
        let shouting = letters.len() >= 8
            && letters.iter().filter(upper).count() * 10 >= letters.len() * 8
            && words(normalized).count() >= 2;
        exclamations >= 3 || shouting
    }
}
