//! Measuring the bot against a labelled set of customer utterances (`eval/utterances.tsv`).
//!
//! Each line is `language<TAB>label<TAB>text`, where the label is an intent id, `out_of_scope`
//! (the bot should say it did not understand), `human` (an explicit request for a person) or
//! `frustrated` (the bot should offer a person).

use std::collections::BTreeMap;
use std::fmt;

use crate::engine::{Bot, State};
use crate::escalation::EscalationReason;

/// Counts per language.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Scores {
    pub intents: u32,
    pub intents_right: u32,
    pub out_of_scope: u32,
    pub out_of_scope_caught: u32,
    /// In-scope utterances wrongly turned away as not understood.
    pub in_scope_rejected: u32,
    pub escalation_expected: u32,
    pub escalation_predicted: u32,
    pub escalation_right: u32,
}

fn ratio(part: u32, whole: u32) -> f64 {
    if whole == 0 { 1.0 } else { f64::from(part) / f64::from(whole) }
}

impl Scores {
    pub fn intent_accuracy(&self) -> f64 {
        ratio(self.intents_right, self.intents)
    }
    pub fn out_of_scope_recall(&self) -> f64 {
        ratio(self.out_of_scope_caught, self.out_of_scope)
    }
    pub fn escalation_precision(&self) -> f64 {
        ratio(self.escalation_right, self.escalation_predicted)
    }
    pub fn escalation_recall(&self) -> f64 {
        ratio(self.escalation_right, self.escalation_expected)
    }
}

/// Scores per language, and the utterances that went wrong.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub languages: BTreeMap<String, Scores>,
    pub misses: Vec<String>,
}

/// Runs every utterance through a fresh conversation and scores the replies.
pub fn evaluate(bot: &Bot, tsv: &str) -> Result<Report, String> {
    let mut report = Report::default();
    for (number, line) in tsv.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let (Some(language), Some(label), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(format!("line {}: expected language<TAB>label<TAB>text", number + 1));
        };
        let reply = bot.turn(&mut State::default(), language, text);
        let scores = report.languages.entry(language.to_owned()).or_default();
        let escalates = reply.handoff.is_some() || reply.offer_human == Some(EscalationReason::Frustration);
        let expects_escalation = label == "human" || label == "frustrated";
        scores.escalation_expected += u32::from(expects_escalation);
        scores.escalation_predicted += u32::from(escalates);
        scores.escalation_right += u32::from(escalates && expects_escalation);
        let right = match label {
            "human" | "frustrated" => escalates,
            "out_of_scope" => {
                scores.out_of_scope += 1;
                let caught = reply.intent.is_none() && reply.handoff.is_none();
                scores.out_of_scope_caught += u32::from(caught);
                caught
            }
            intent => {
                if !bot.flow().intents.iter().any(|i| i.id == intent) {
                    return Err(format!("line {}: no intent {intent:?} in the flow", number + 1));
                }
                scores.intents += 1;
                let right = reply.intent.as_deref() == Some(intent);
                scores.intents_right += u32::from(right);
                scores.in_scope_rejected += u32::from(reply.intent.is_none() && reply.handoff.is_none());
                right
            }
        };
        if !right {
            let got = reply.intent.as_deref().unwrap_or("(not understood)");
            let escalation = if escalates { ", escalates" } else { "" };
            report.misses.push(format!("{language} {label:>15} ← {text:?} got {got}{escalation}"));
        }
    }
    Ok(report)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<8} {:>10} {:>14} {:>16} {:>13} {:>10}",
            "language", "intent acc", "out-of-scope", "in-scope refused", "escal. prec", "escal. rec"
        )?;
        for (language, s) in &self.languages {
            writeln!(
                f,
                "{language:<8} {:>9.1}% {:>13.1}% {:>15.1}% {:>12.1}% {:>9.1}%",
                100.0 * s.intent_accuracy(),
                100.0 * s.out_of_scope_recall(),
                100.0 * ratio(s.in_scope_rejected, s.intents),
                100.0 * s.escalation_precision(),
                100.0 * s.escalation_recall(),
            )?;
        }
        Ok(())
    }
}
