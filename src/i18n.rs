//! The widget's words, one catalogue per locale (`locales/*.txt`), and which locale to speak.
//!
//! A catalogue is plain `key = text` lines so that a translator can edit it without knowing
//! Rust; the files are compiled in (a few KB) and read by a linear scan, which for some forty
//! keys is cheaper than building a map. A key missing from a catalogue falls back to English
//! at run time, and the tests below fail the build first.
//!
//! The live chat's words (`locales/live/*.txt`: the queue, the forms, the files, the end) come
//! with the live chat's wasm module, which hands them over as it arrives ([`live_words_arrived`]);
//! only its views ask for them.

use leptos::prelude::*;
#[cfg(feature = "lazy")]
use std::cell::Cell;

/// A locale the widget ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    Sv,
    De,
    /// Pseudo-locale `ar-XB`: the English words laid out right to left, to test RTL layout.
    PseudoRtl,
}

impl Locale {
    pub const SHIPPED: [Self; 4] = [Self::En, Self::Sv, Self::De, Self::PseudoRtl];

    /// The shipped locale for a BCP 47 tag (`sv-SE` → Swedish), if there is one. The pseudo
    /// locale answers only to its exact tag, never to real Arabic.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.trim();
        if tag.eq_ignore_ascii_case("ar-XB") {
            return Some(Self::PseudoRtl);
        }
        let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "sv" => Some(Self::Sv),
            "de" => Some(Self::De),
            _ => None,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Sv => "sv",
            Self::De => "de",
            Self::PseudoRtl => "ar-XB",
        }
    }

    /// The language the bot answers in (its flows are written per language).
    pub fn language(self) -> &'static str {
        match self {
            Self::PseudoRtl => "en",
            other => other.tag(),
        }
    }

    pub fn dir(self) -> &'static str {
        if self == Self::PseudoRtl { "rtl" } else { "ltr" }
    }

    fn catalogue(self) -> &'static str {
        match self {
            Self::En | Self::PseudoRtl => include_str!("../locales/en.txt"),
            Self::Sv => include_str!("../locales/sv.txt"),
            Self::De => include_str!("../locales/de.txt"),
        }
    }

    /// The live chat's catalogue, where its module is.
    fn live_catalogue(self) -> Option<&'static str> {
        #[cfg(feature = "lazy")]
        let catalogues = LIVE_WORDS.with(Cell::get);
        #[cfg(not(feature = "lazy"))]
        let catalogues = Some(&LIVE_CATALOGUES);
        catalogues.map(|catalogues| catalogues[self.catalogue_index()])
    }

    fn catalogue_index(self) -> usize {
        match self {
            Self::En | Self::PseudoRtl => 0,
            Self::Sv => 1,
            Self::De => 2,
        }
    }

    /// The text for `key`, in English when this locale lacks it (empty if no catalogue has it,
    /// which the tests rule out).
    pub fn text(self, key: &str) -> &'static str {
        [self, Self::En]
            .into_iter()
            .flat_map(|locale| std::iter::once(locale.catalogue()).chain(locale.live_catalogue()))
            .find_map(|catalogue| lookup(catalogue, key))
            .unwrap_or("")
    }

    /// The text for `key` with each `{name}` replaced by its value.
    pub fn format(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.text(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The text for `key` split around the one `{name}` in it, for when the value is markup
    /// (a link) rather than text.
    pub fn around(self, key: &str, name: &str) -> (&'static str, &'static str) {
        let text = self.text(key);
        text.split_once(&format!("{{{name}}}")).unwrap_or((text, ""))
    }
}

/// Entries of a catalogue: `(key, text)` for every non-comment line.
pub fn entries(catalogue: &str) -> impl Iterator<Item = (&str, &str)> {
    catalogue
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, text)| (key.trim(), text.trim()))
}

fn lookup(catalogue: &'static str, key: &str) -> Option<&'static str> {
    entries(catalogue).find(|(candidate, _)| *candidate == key).map(|(_, text)| text)
}

/// The live chat's catalogues (English, Swedish, German): with the `lazy` feature, only
/// [`live_words_arrived`] names them, so that they are data of the live module.
const LIVE_CATALOGUES: [&str; 3] = [
    include_str!("../locales/live/en.txt"),
    include_str!("../locales/live/sv.txt"),
    include_str!("../locales/live/de.txt"),
];

#[cfg(feature = "lazy")]
thread_local! {
    /// The live chat's catalogues, once its module is here.
    static LIVE_WORDS: Cell<Option<&'static [&'static str; 3]>> = const { Cell::new(None) };
}

/// The live module is here, with its words (called from it).
#[cfg(feature = "lazy")]
pub fn live_words_arrived() {
    LIVE_WORDS.with(|held| held.set(Some(&LIVE_CATALOGUES)));
}

/// The locale the widget speaks, shared through context.
///
/// Chosen, first that names a shipped locale: the page's call to `Tandem.setLocale()`, the
/// merchant's configured locale, the page's `<html lang>`, the browser's languages, English.
#[derive(Debug, Clone, Copy)]
pub struct I18n {
    /// What the page set through the JS API.
    pub requested: RwSignal<Option<String>>,
    /// The merchant's configured locale, once the configuration has loaded.
    pub merchant: RwSignal<Option<String>>,
    locale: Memo<Locale>,
}

impl I18n {
    pub fn new() -> Self {
        let requested = RwSignal::new(None::<String>);
        let merchant = RwSignal::new(None::<String>);
        let page = page_languages();
        let locale = Memo::new(move |_| {
            let explicit = [requested.get(), merchant.get()];
            explicit
                .iter()
                .flatten()
                .chain(page.iter())
                .find_map(|tag| Locale::from_tag(tag))
                .unwrap_or(Locale::En)
        });
        Self { requested, merchant, locale }
    }

    pub fn locale(self) -> Locale {
        self.locale.get()
    }

    pub fn locale_untracked(self) -> Locale {
        self.locale.get_untracked()
    }

    /// `key` in the current locale; re-renders when the locale changes.
    pub fn t(self, key: &str) -> &'static str {
        self.locale().text(key)
    }

    /// `key` as a signal, for views: one boxed closure type for every text, rather than a
    /// closure type (and its rendering code) per call site, which keeps the wasm small.
    pub fn tr(self, key: &'static str) -> Signal<&'static str> {
        Signal::derive(move || self.t(key))
    }

    pub fn f(self, key: &str, args: &[(&str, &str)]) -> String {
        self.locale().format(key, args)
    }
}

impl Default for I18n {
    fn default() -> Self {
        Self::new()
    }
}

/// The page's own language, then the browser's, in order of preference.
fn page_languages() -> Vec<String> {
    let Some(window) = web_sys::window() else { return Vec::new() };
    let mut tags = Vec::new();
    if let Some(lang) =
        window.document().and_then(|d| d.document_element()).map(|html| html.get_attribute("lang"))
        && let Some(lang) = lang.filter(|lang| !lang.is_empty())
    {
        tags.push(lang);
    }
    tags.extend(window.navigator().languages().iter().filter_map(|tag| tag.as_string()));
    tags
}

/// The widget's [`I18n`], provided by [`crate::Widget`] (English where there is none).
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{Locale, entries};

    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(name, _)| name).collect()
    }

    /// A locale's words: the widget's, then the live chat's.
    fn all_entries(locale: Locale) -> Vec<(&'static str, &'static str)> {
        entries(locale.catalogue()).chain(entries(super::LIVE_CATALOGUES[locale.catalogue_index()])).collect()
    }

    #[test]
    fn every_catalogue_has_every_key_with_the_same_placeholders() {
        let english = all_entries(Locale::En);
        let keys: BTreeSet<_> = english.iter().map(|(key, _)| *key).collect();
        assert_eq!(keys.len(), english.len(), "a key is listed twice in en.txt or live/en.txt");
        for locale in Locale::SHIPPED {
            let widgets: BTreeSet<_> = entries(locale.catalogue()).map(|(key, _)| key).collect();
            let english_widgets: BTreeSet<_> = entries(Locale::En.catalogue()).map(|(key, _)| key).collect();
            assert_eq!(
                widgets,
                english_widgets,
                "{}: the widget's and the live chat's keys as in English",
                locale.tag()
            );
            let catalogue = all_entries(locale);
            let own: BTreeSet<_> = catalogue.iter().map(|(key, _)| *key).collect();
            let missing: Vec<_> = keys.difference(&own).collect();
            let extra: Vec<_> = own.difference(&keys).collect();
            assert!(missing.is_empty(), "{}: missing keys {missing:?}", locale.tag());
            assert!(extra.is_empty(), "{}: keys not in en.txt {extra:?}", locale.tag());
            assert_eq!(own.len(), catalogue.len(), "{}: a key is listed twice", locale.tag());
            for (key, text) in &catalogue {
                assert!(!text.is_empty(), "{}: {key} is empty", locale.tag());
                let english_text = Locale::En.text(key);
                assert_eq!(placeholders(text), placeholders(english_text), "{}: {key}", locale.tag());
            }
        }
    }

    /// Every key the widget's code asks for exists in English (and so, by the test above, in
    /// every catalogue).
    #[test]
    fn every_key_used_in_the_code_is_in_the_catalogues() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut used = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("src/") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "rs") {
                let source = std::fs::read_to_string(&path).expect("read");
                for call in [".t(\"", ".f(\"", ".text(\"", ".format(\"", ".around(\""] {
                    for rest in source.split(call).skip(1) {
                        if let Some((key, _)) = rest.split_once('"') {
                            used.insert(key.to_owned());
                        }
                    }
                }
            }
        }
        assert!(used.len() > 10, "the scan found the widget's keys: {used:?}");
        for key in &used {
            assert!(
                all_entries(Locale::En).iter().any(|(candidate, _)| candidate == key),
                "the code uses {key:?}, which no catalogue has"
            );
        }
    }

    /// The loader draws the launcher and the panel's shell before the app (and these
    /// catalogues) load, with its own copy of their texts (frame.js takes the launcher's
    /// closing label from there too): they must say the same.
    #[test]
    fn the_loaders_launcher_labels_match_the_catalogues() {
        let loader = include_str!("../loader/tandem.js");
        for locale in [Locale::En, Locale::Sv, Locale::De] {
            // The launcher's label, then the panel's shell (see crate::shell).
            let keys =
                ["launcher.open", "human.button", "panel.fallback-name", "composer.label", "panel.close"];
            let texts: Vec<String> = keys.iter().map(|key| format!("'{}'", locale.text(key))).collect();
            let entry = format!("{}: [{}]", locale.tag(), texts.join(", "));
            assert!(loader.contains(&entry), "loader/tandem.js lacks {entry}");
            assert_eq!(
                locale.text("launcher.close"),
                locale.text("panel.close"),
                "frame.js shows panel.close"
            );
        }
    }

    #[test]
    fn locales_are_chosen_by_primary_language() {
        assert_eq!(Locale::from_tag("sv-SE"), Some(Locale::Sv));
        assert_eq!(Locale::from_tag("de_AT"), Some(Locale::De));
        assert_eq!(Locale::from_tag("EN"), Some(Locale::En));
        assert_eq!(Locale::from_tag("ar-XB"), Some(Locale::PseudoRtl));
        assert_eq!(Locale::from_tag("ar"), None);
        assert_eq!(Locale::from_tag("fr"), None);
        assert_eq!(
            Locale::Sv.format("queue.position", &[("position", "3"), ("wait", "en minut")]),
            "Du är nummer 3 i kön. Cirka en minut."
        );
        assert_eq!(
            Locale::De.around("contact.email", "email"),
            ("Schreiben Sie an ", ", ein Mensch antwortet Ihnen.")
        );
    }
}
