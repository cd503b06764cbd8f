//! Ranking intents by TF-IDF over words and character trigrams.
//!
//! Why this and not BM25 or embeddings: examples are short (a few words), so length
//! normalisation matters little and cosine over TF-IDF is simple and predictable; character
//! trigrams of each word give typo tolerance ("pament" still shares "pay"-less trigrams
//! `_pa`, `ame`, `men`, `ent`, `nt_` with "payment") and soften inflection ("betalning",
//! "betalningen"), without a dictionary per language. See `docs/bot-flows.md`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::flow::Intent;
use crate::normalize::{normalize, words};

/// Weight of a whole-word match relative to one trigram match.
const WORD_WEIGHT: f32 = 2.0;

/// Function words (normalised) of the shipped languages (en, sv, de). They say little about what a
/// customer wants, yet would make "do you sell pizza" look like "do you charge interest".
const STOP_WORDS: [&[&str]; 3] = [
    &[
        "a", "an", "the", "i", "me", "my", "you", "your", "we", "our", "it", "is", "are", "was", "be", "do",
        "does", "did", "can", "could", "would", "will", "to", "of", "in", "on", "for", "and", "or", "with",
        "this", "that", "what", "how", "when", "why", "where", "there", "have", "has", "please", "hi",
        "hello", "about", "any",
    ],
    &[
        "jag", "du", "min", "mitt", "mina", "din", "ni", "vi", "det", "den", "en", "ett", "ar", "och", "att",
        "pa", "med", "for", "om", "kan", "hur", "vad", "nar", "varfor", "var", "har", "ska", "finns", "som",
        "till", "av", "hej", "tack",
    ],
    &[
        "ich", "mein", "meine", "meinen", "sie", "ihr", "wir", "es", "der", "die", "das", "ein", "eine",
        "einen", "ist", "und", "zu", "mit", "fur", "auf", "wie", "was", "wann", "warum", "wo", "kann",
        "habe", "hat", "bitte", "gibt", "hallo", "danke", "von", "im",
    ],
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.iter().any(|language| language.contains(&word))
}

/// A whole word, or a character trigram written as `#` and its three characters (`#` never
/// occurs in normalised words). Plain strings rather than an enum keep one map type in the
/// widget's wasm instead of two.
type Term = String;

/// Term counts of one text.
type Terms = BTreeMap<Term, f32>;

fn terms(normalized: &str) -> Terms {
    let mut counts = BTreeMap::new();
    for word in words(normalized).filter(|word| !is_stop_word(word)) {
        *counts.entry(word.to_owned()).or_insert(0.0) += WORD_WEIGHT;
        let padded: Vec<char> =
            std::iter::once('_').chain(word.chars()).chain(std::iter::once('_')).collect();
        for window in padded.windows(3) {
            let trigram: String = ['#', window[0], window[1], window[2]].iter().collect();
            *counts.entry(trigram).or_insert(0.0) += 1.0;
        }
    }
    counts
}

/// The examples of one language, indexed.
#[derive(Debug, Default)]
struct LanguageIndex {
    /// term → (example, weight): only the examples that contain the term are visited.
    postings: BTreeMap<Term, Vec<(usize, f32)>>,
    idf: BTreeMap<Term, f32>,
    /// The intent of each example, and its vector's length.
    examples: Vec<(usize, f32)>,
}

impl LanguageIndex {
    /// Each example's terms weighted by TF-IDF; `None` when no example in `language` has a term.
    fn build(intents: &[Intent], language: &str) -> Option<Self> {
        let mut docs: Vec<(usize, Terms)> = Vec::new();
        for (intent_index, intent) in intents.iter().enumerate() {
            for example in intent.examples.get(language).into_iter().flatten() {
                let counts = terms(&normalize(example));
                if !counts.is_empty() {
                    docs.push((intent_index, counts));
                }
            }
        }
        if docs.is_empty() {
            return None;
        }
        let mut document_frequency: BTreeMap<&Term, f32> = BTreeMap::new();
        for (_, counts) in &docs {
            for term in counts.keys() {
                *document_frequency.entry(term).or_insert(0.0) += 1.0;
            }
        }
        let total = docs.len() as f32;
        // Maps are filled by insertion: `collect()` into one sorts with a stable sort of its
        // own for each map type, code the widget's wasm need not carry.
        let mut index = Self::default();
        for (term, df) in document_frequency {
            index.idf.insert(term.clone(), ((1.0 + total) / (1.0 + df)).ln() + 1.0);
        }
        for (example, (intent, counts)) in docs.iter().enumerate() {
            let mut norm = 0.0;
            for (term, count) in counts {
                let weight = count * index.idf.get(term).copied().unwrap_or(1.0);
                norm += weight * weight;
                index.postings.entry(term.clone()).or_default().push((example, weight));
            }
            index.examples.push((*intent, norm.sqrt()));
        }
        Some(index)
    }
}

/// The flow's examples, indexed per language the first time a customer writes in it. A
/// customer speaks one language: in the browser, indexing every language of the flow as the
/// widget starts would put the others' work between the customer's tap and the bot's first
/// answer (on a slow phone, most of the bot's start-up).
#[derive(Debug, Default)]
pub struct Index {
    /// Every language with examples; `None` inside once built when none of them had a term.
    languages: BTreeMap<String, OnceLock<Option<LanguageIndex>>>,
}

impl Index {
    pub fn new(intents: &[Intent]) -> Self {
        let mut languages = BTreeMap::new();
        for language in intents.iter().flat_map(|intent| intent.examples.keys()) {
            languages.entry(language.clone()).or_insert_with(OnceLock::new);
        }
        Self { languages }
    }

    /// The languages indexed so far.
    #[cfg(test)]
    fn built(&self) -> Vec<&str> {
        self.languages.iter().filter(|(_, index)| index.get().is_some()).map(|(l, _)| l.as_str()).collect()
    }

    /// For each of `intents`, the best cosine similarity (0..=1) of its examples
    /// in `language` to `normalized` text; empty when the language has no examples.
    pub fn scores(&self, intents: &[Intent], language: &str, normalized: &str) -> Vec<f32> {
        let intent_count = intents.len();
        let built = self
            .languages
            .get(language)
            .map(|index| index.get_or_init(|| LanguageIndex::build(intents, language)));
        let Some(Some(index)) = built else { return Vec::new() };
        let query = terms(normalized);
        let mut dots = vec![0.0f32; index.examples.len()];
        let mut query_norm = 0.0;
        for (term, count) in &query {
            // Terms no example has carry no signal but still lengthen the query: an
            // out-of-scope question full of unknown words scores low, as it should.
            let idf = index.idf.get(term).copied().unwrap_or(1.0);
            let weight = count * idf;
            query_norm += weight * weight;
            if let Some(postings) = index.postings.get(term) {
                for (example, example_weight) in postings {
                    dots[*example] += weight * example_weight;
                }
            }
        }
        let mut best = vec![0.0f32; intent_count];
        let query_norm = query_norm.sqrt();
        if query_norm == 0.0 {
            return best;
        }
        for (example, dot) in dots.into_iter().enumerate() {
            let (intent, norm) = index.examples[example];
            if norm > 0.0
                && let Some(top) = best.get_mut(intent)
            {
                *top = top.max(dot / (norm * query_norm));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intents() -> Vec<Intent> {
        let intent = |id: &str, en: &str, sv: &str| {
            serde_json::from_value(serde_json::json!({
                "id": id,
                "examples": { "en": [en], "sv": [sv] },
                "answer": { "text": { "en": id, "sv": id } }
            }))
            .expect("an intent")
        };
        vec![
            intent("fees", "are there any fees", "kostar det något"),
            intent("refund", "I want a refund", "jag vill ha pengarna tillbaka"),
        ]
    }

    #[test]
    fn a_language_is_indexed_when_it_is_first_asked_about_and_only_then() {
        let intents = intents();
        let index = Index::new(&intents);
        assert!(index.built().is_empty(), "nothing is indexed before a question");

        let scores = index.scores(&intents, "en", &normalize("any fees?"));
        assert_eq!(index.built(), ["en"], "Swedish waits for a Swedish question");
        assert!(scores[0] > scores[1], "the English question finds its intent: {scores:?}");

        assert!(index.scores(&intents, "de", "gebuhren").is_empty(), "no examples in German: no scores");
        let swedish = index.scores(&intents, "sv", &normalize("Kostar det något?"));
        assert_eq!(index.built(), ["en", "sv"]);
        assert!(swedish[0] > swedish[1], "{swedish:?}");
    }
}
