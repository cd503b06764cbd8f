//! Tandem's bot engine: answers a merchant's common questions in the customer's browser and
//! knows when to hand over to a person.
//!
//! Pure and deterministic: a [`Flow`] (authored by the merchant, see `docs/bot-flows.md`) is
//! validated into a [`Bot`]; each customer turn goes through [`Bot::turn`] with the
//! conversation's [`State`] and yields a [`Reply`]. No I/O, no clock, no randomness.

mod engine;
mod escalation;
pub mod evaluation;
mod flow;
mod matcher;
mod normalize;

pub use engine::{Bot, Reply, State};
pub use escalation::EscalationReason;
pub use flow::{Answer, Flow, FlowProblem, Intent, Link, Localized, QuickReply, Slot, SlotKind};
pub use normalize::normalize;

/// The demo merchant's flow: a pay-later checkout in English, Swedish and German.
pub const DEMO_FLOW: &str = include_str!("../flows/demo.json");
