use std::fmt;

use serde::{Deserialize, Serialize};

/// A merchant's public identifier, as written in the embed tag (`data-merchant="demo"`).
///
/// 1 to 64 characters of lowercase ASCII letters, digits and `-`, not starting or ending
/// with `-`: safe in a URL path segment, a log line and an HTML attribute without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct MerchantId(String);

/// Why a string is not a [`MerchantId`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidMerchantId {
    Empty,
    TooLong,
    BadCharacter(char),
    EdgeHyphen,
}

impl fmt::Display for InvalidMerchantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "a merchant id cannot be empty"),
            Self::TooLong => write!(f, "a merchant id has at most {} characters", MerchantId::MAX_LEN),
            Self::BadCharacter(c) => write!(f, "a merchant id uses only a-z, 0-9 and '-', not '{c}'"),
            Self::EdgeHyphen => write!(f, "a merchant id cannot start or end with '-'"),
        }
    }
}

impl std::error::Error for InvalidMerchantId {}

impl MerchantId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidMerchantId> {
        if raw.is_empty() {
            return Err(InvalidMerchantId::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidMerchantId::TooLong);
        }
        if let Some(c) = raw.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
            return Err(InvalidMerchantId::BadCharacter(c));
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err(InvalidMerchantId::EdgeHyphen);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MerchantId {
    type Error = InvalidMerchantId;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<MerchantId> for String {
    fn from(id: MerchantId) -> Self {
        id.0
    }
}

impl fmt::Display for MerchantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the widget needs to know about a merchant to open its panel:
/// `GET /v1/merchants/{id}/widget-config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct WidgetConfig {
    pub merchant_id: MerchantId,
    /// Shown in the panel header, e.g. "Northwind Outfitters".
    pub display_name: String,
    /// Where a customer reaches a person when live chat cannot be used.
    pub support_email: Option<String>,
    /// The merchant's language for the widget (a BCP 47 tag); the page's and the browser's
    /// languages apply when unset.
    #[serde(default)]
    pub locale: Option<String>,
    /// Whether to ask for the customer's email before the handoff.
    #[serde(default)]
    pub ask_email: AskEmail,
    /// Whether the server sends email, so that a customer may have a transcript sent when a
    /// chat ends (`POST /v1/conversations/{id}/transcript`).
    #[serde(default)]
    pub transcripts: bool,
}

/// Whether the widget asks for an email before putting the customer through to a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AskEmail {
    #[default]
    Off,
    /// Asked, and the customer may skip it.
    Optional,
    Required,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids() {
        for ok in ["demo", "a", "shop-42", &"x".repeat(64)] {
            assert_eq!(MerchantId::parse(ok).map(|m| m.to_string()), Ok(ok.to_owned()));
        }
    }

    #[test]
    fn rejects_each_kind_of_bad_id() {
        assert_eq!(MerchantId::parse(""), Err(InvalidMerchantId::Empty));
        assert_eq!(MerchantId::parse(&"x".repeat(65)), Err(InvalidMerchantId::TooLong));
        assert_eq!(MerchantId::parse("Demo"), Err(InvalidMerchantId::BadCharacter('D')));
        assert_eq!(MerchantId::parse("a/b"), Err(InvalidMerchantId::BadCharacter('/')));
        assert_eq!(MerchantId::parse("é"), Err(InvalidMerchantId::BadCharacter('é')));
        assert_eq!(MerchantId::parse("-demo"), Err(InvalidMerchantId::EdgeHyphen));
    }

    #[test]
    fn deserializing_validates() {
        let bad: Result<MerchantId, _> = serde_json::from_str("\"../etc\"");
        assert!(bad.is_err());
        let good: MerchantId = serde_json::from_str("\"demo\"").expect("valid id");
        assert_eq!(good.as_str(), "demo");
    }
}
