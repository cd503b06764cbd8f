//! One name per variant of the enums that are stored and exported as text: the same in JSON
//! (serde's `snake_case`), the database, the CSV export and the command line. `as_str` and
//! `FromStr` come from one list per enum, and a test holds each list to serde's names.

use crate::{AgentRole, AskEmail, ConversationStatus, EscalationReason, HandoffReason, Presence};

/// A name that is none of an enum's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownName(pub &'static str);

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a known {}", self.0)
    }
}

macro_rules! names {
    ($kind:literal, $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            fn from_str(raw: &str) -> Result<Self, UnknownName> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownName($kind)),
                }
            }
        }
    };
}

names!("handoff reason", HandoffReason { Button => "button", TypedRequest => "typed_request", BotOffer => "bot_offer" });
names!("escalation", EscalationReason {
    ExplicitRequest => "explicit_request",
    RepeatedFallback => "repeated_fallback",
    Frustration => "frustration",
});
names!("conversation status", ConversationStatus { Waiting => "waiting", Active => "active", Ended => "ended" });
names!("presence", Presence { Online => "online", Away => "away", Offline => "offline" });
names!("agent role", AgentRole { Agent => "agent", Admin => "admin" });
names!("ask_email setting", AskEmail { Off => "off", Optional => "optional", Required => "required" });

#[cfg(test)]
mod tests {
    use super::*;

    fn agrees_with_serde<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + serde::Serialize + std::str::FromStr<Err = UnknownName> + PartialEq + std::fmt::Debug,
    {
        for &value in all {
            let json = serde_json::to_string(&value).expect("serialises");
            assert_eq!(json, format!("\"{}\"", as_str(value)), "{value:?}");
            assert_eq!(as_str(value).parse::<T>(), Ok(value));
        }
        assert!("Nope".parse::<T>().is_err());
    }

    #[test]
    fn every_name_is_serdes_and_parses_back() {
        agrees_with_serde(HandoffReason::ALL, HandoffReason::as_str);
        agrees_with_serde(EscalationReason::ALL, EscalationReason::as_str);
        agrees_with_serde(ConversationStatus::ALL, ConversationStatus::as_str);
        agrees_with_serde(Presence::ALL, Presence::as_str);
        agrees_with_serde(AgentRole::ALL, AgentRole::as_str);
        agrees_with_serde(AskEmail::ALL, AskEmail::as_str);
        assert_eq!(HandoffReason::TypedRequest.as_str(), "typed_request");
        assert_eq!("bot_offer".parse(), Ok(HandoffReason::BotOffer));
    }
}
