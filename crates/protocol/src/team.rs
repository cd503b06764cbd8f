//! The merchant's team: invites, the agents' live state, and the supervisor's figures.

use serde::{Deserialize, Serialize};

use crate::{AgentRole, Presence};

/// `POST /v1/agent/invites` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct CreateInvite {
    #[serde(default)]
    pub role: AgentRole,
}

/// A single-use invite. The token travels in the link's fragment (`/console/#invite=…`), which
/// browsers never send to a server or put in a Referer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct Invite {
    pub link: String,
    pub token: String,
    pub expires_at_ms: i64,
}

/// `POST /v1/invites/lookup`: what the invited person is joining.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct InviteToken {
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct InviteDetails {
    pub merchant_name: String,
    pub role: AgentRole,
}

/// `POST /v1/invites/accept`: the invited person sets up their account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct AcceptInvite {
    pub token: String,
    pub display_name: String,
    pub email: String,
    /// Primary language subtags, e.g. `["en", "sv"]`.
    pub languages: Vec<String>,
    pub password: String,
}

/// One agent of the team, as colleagues and the supervisor see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct TeamMember {
    pub id: i64,
    pub display_name: String,
    pub email: String,
    pub role: AgentRole,
    pub languages: Vec<String>,
    /// `offline` when no console of theirs is connected.
    pub presence: Presence,
    /// Connected (or within the grace period of a dropped connection).
    pub connected: bool,
    pub chats: u32,
    pub capacity: u32,
    pub active: bool,
}

/// `GET /v1/agent/supervisor` (admins): the live queue and today's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct SupervisorReport {
    pub waiting: u32,
    pub longest_wait_secs: u32,
    pub agents: Vec<TeamMember>,
    pub today: DayFigures,
}

/// Figures for conversations created since midnight UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct DayFigures {
    pub conversations: u32,
    pub answered: u32,
    /// Ended before any person answered.
    pub abandoned: u32,
    pub time_to_human_p50_secs: Option<u32>,
    pub time_to_human_p90_secs: Option<u32>,
    /// Average rating in hundredths (450 = 4.50), if any were given.
    pub average_rating_hundredths: Option<u32>,
    pub ratings: u32,
}
