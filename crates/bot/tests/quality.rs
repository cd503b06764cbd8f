//! The bot's measured quality on the labelled set must not fall below these floors
//! (the current figures are in the README; `cargo xtask bot-eval` prints them).

use tandem_bot::evaluation::evaluate;
use tandem_bot::{Bot, Flow};

#[test]
fn demo_flow_meets_the_quality_floors_in_every_language() {
    let flow: Flow = serde_json::from_str(include_str!("../flows/demo.json")).expect("parses");
    let bot = Bot::new(flow).expect("valid");
    let report = evaluate(&bot, include_str!("../eval/utterances.tsv")).expect("eval set reads");
    let total: u32 =
        report.languages.values().map(|s| s.intents + s.out_of_scope + s.escalation_expected).sum();
    assert!(total >= 300, "the eval set has {total} utterances");
    assert_eq!(report.languages.keys().collect::<Vec<_>>(), ["de", "en", "sv"]);
    for (language, scores) in &report.languages {
        assert!(scores.intent_accuracy() >= 0.80, "{language} intent accuracy\n{report}");
        assert!(scores.out_of_scope_recall() >= 0.75, "{language} out-of-scope\n{report}");
        assert!(scores.escalation_precision() >= 0.90, "{language} escalation precision\n{report}");
        assert!(scores.escalation_recall() >= 0.90, "{language} escalation recall\n{report}");
    }
}
