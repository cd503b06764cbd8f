//! Canned responses: a merchant's prepared answers, in each of its languages, which agents find
//! by typing `/` in the console's composer. Admins manage them in the console and with
//! `tandem merchant canned`; see `docs/api.md`.

use serde::{Deserialize, Serialize};

use crate::validate_text;

/// Most canned responses one merchant keeps.
pub const MAX_CANNED_RESPONSES: usize = 200;

/// One prepared answer. Its texts may hold `{customer_name}` and `{agent_name}`, filled in as
/// the agent takes it (see [`fill_canned`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct CannedResponse {
    /// What the agent types after `/`: 1 to 32 lowercase letters, digits or hyphens.
    pub shortcut: String,
    /// What the agent reads in the list: 1 to 80 characters.
    pub title: String,
    /// One text per language, at least one.
    pub texts: Vec<CannedText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct CannedText {
    /// A two-letter language code: `en`, `sv`, `de`…
    pub locale: String,
    pub text: String,
}

/// The body of `PUT /v1/agent/canned/{shortcut}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct CannedResponseBody {
    pub title: String,
    pub texts: Vec<CannedText>,
}

impl CannedResponse {
    /// Checks every field; the first problem, in words an admin can act on.
    pub fn check(&self) -> Result<(), String> {
        let shortcut_ok = (1..=32).contains(&self.shortcut.len())
            && self.shortcut.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !shortcut_ok {
            return Err("shortcut: 1 to 32 lowercase letters, digits or hyphens".into());
        }
        let title = self.title.trim();
        if title.is_empty() || self.title.chars().count() > 80 {
            return Err("title: 1 to 80 characters".into());
        }
        if self.texts.is_empty() || self.texts.len() > 20 {
            return Err("texts: 1 to 20, one per language".into());
        }
        for (i, text) in self.texts.iter().enumerate() {
            if text.locale.len() != 2 || !text.locale.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(format!("texts: {:?} is not a two-letter language code such as en", text.locale));
            }
            if self.texts[..i].iter().any(|other| other.locale == text.locale) {
                return Err(format!("texts: {} twice", text.locale));
            }
            validate_text(&text.text).map_err(|problem| format!("texts ({}): {problem}", text.locale))?;
        }
        Ok(())
    }

    /// The text in `locale`'s language (`sv-SE` takes `sv`), else the first one.
    pub fn text_for(&self, locale: &str) -> &str {
        let language = locale.get(..2).unwrap_or(locale).to_ascii_lowercase();
        let chosen = self.texts.iter().find(|t| t.locale == language).or_else(|| self.texts.first());
        chosen.map_or("", |t| t.text.as_str())
    }

    /// Whether it is what the agent looks for after `/`: a shortcut that starts with `query`,
    /// or a title that holds it, in any case.
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().to_lowercase();
        self.shortcut.starts_with(&query) || self.title.to_lowercase().contains(&query)
    }
}

/// A canned text with its placeholders filled: `{agent_name}`, and `{customer_name}` when the
/// customer's name is known. Unknown, the name is left out with the comma or space before it
/// ("Hi {customer_name}, …" becomes "Hi, …", "Thanks, {customer_name}!" "Thanks!"), so that no
/// brace reaches the customer.
pub fn fill_canned(text: &str, customer_name: Option<&str>, agent_name: &str) -> String {
    let text = text.replace("{agent_name}", agent_name);
    match customer_name {
        Some(name) => text.replace("{customer_name}", name),
        None => ["{customer_name}", " {customer_name}", ", {customer_name}"]
            .iter()
            .rev()
            .fold(text, |text, placeholder| text.replace(placeholder, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refund() -> CannedResponse {
        CannedResponse {
            shortcut: "refund".into(),
            title: "Refund policy".into(),
            texts: vec![
                CannedText { locale: "en".into(), text: "Hi {customer_name}, I'm {agent_name}.".into() },
                CannedText { locale: "sv".into(), text: "Hej {customer_name}!".into() },
            ],
        }
    }

    #[test]
    fn a_canned_response_is_checked_field_by_field() {
        assert_eq!(refund().check(), Ok(()));
        let with = |change: fn(&mut CannedResponse)| {
            let mut canned = refund();
            change(&mut canned);
            canned.check().expect_err("refused")
        };
        assert!(with(|c| c.shortcut = "Refund".into()).starts_with("shortcut"));
        assert!(with(|c| c.shortcut = String::new()).starts_with("shortcut"));
        assert!(with(|c| c.title = " ".into()).starts_with("title"));
        assert!(with(|c| c.texts.clear()).starts_with("texts"));
        assert!(with(|c| c.texts[1].locale = "en".into()).contains("twice"));
        assert!(with(|c| c.texts[1].locale = "swedish".into()).contains("two-letter"));
        assert!(with(|c| c.texts[0].text = "  ".into()).contains("empty"));
    }

    #[test]
    fn the_customers_language_is_chosen_and_the_placeholders_filled() {
        let canned = refund();
        assert_eq!(canned.text_for("sv-SE"), "Hej {customer_name}!");
        assert_eq!(canned.text_for("de"), "Hi {customer_name}, I'm {agent_name}.", "else the first");
        assert_eq!(fill_canned(canned.text_for("en"), Some("Kim"), "Anna"), "Hi Kim, I'm Anna.");
        assert_eq!(fill_canned(canned.text_for("en"), None, "Anna"), "Hi, I'm Anna.");
        assert_eq!(fill_canned(canned.text_for("sv"), None, "Anna"), "Hej!");
        assert_eq!(fill_canned("Thanks, {customer_name}!", None, "Anna"), "Thanks!");
    }

    #[test]
    fn it_is_found_by_its_shortcut_or_its_title() {
        let canned = refund();
        assert!(canned.matches("ref") && canned.matches("POLICY") && canned.matches(""));
        assert!(canned.matches("refund") && canned.matches("icy"), "a title matches anywhere");
        assert!(!canned.matches("shipping"));
    }
}
