//! Whatever a customer types, and whatever a merchant writes, nothing panics and a turn ends fast.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use tandem_bot::{Bot, Flow, State, normalize};

const DEMO: &str = include_str!("../flows/demo.json");

fn demo() -> Bot {
    Bot::new(serde_json::from_str::<Flow>(DEMO).expect("parses")).expect("valid")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_unicode_input_gets_a_reply(input in "\\PC{0,300}", language in "[a-z]{0,3}(-[A-Z]{2})?") {
        let bot = demo();
        let mut state = State::default();
        let reply = bot.turn(&mut state, &language, &input);
        prop_assert!(!reply.text.is_empty());
        prop_assert!((0.0..=1.0001).contains(&reply.confidence));
        // The next turn works from whatever state this one left.
        let _ = bot.turn(&mut state, &language, &input);
    }

    #[test]
    fn normalization_is_idempotent(input in "\\PC{0,200}") {
        let once = normalize(&input);
        prop_assert_eq!(&normalize(&once), &once);
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
    }

    #[test]
    fn any_flow_json_is_parsed_or_refused_without_panic(json in "\\PC{0,400}") {
        if let Ok(flow) = serde_json::from_str::<Flow>(&json) {
            let _ = Bot::new(flow);
        }
    }
}

#[test]
fn huge_input_is_bounded() {
    let bot = demo();
    // 1.6 MB of text is answered as its first 1000 characters: the work per turn is bounded.
    let input = "payment ".repeat(200_000);
    let cut: String = input.chars().take(1000).collect();
    let reply = bot.turn(&mut State::default(), "en", &input);
    assert_eq!(reply, bot.turn(&mut State::default(), "en", &cut));
}
