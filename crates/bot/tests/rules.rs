//! Each rule of the engine, on the demo flow and on small hand-made flows.

use tandem_bot::{Bot, EscalationReason, Flow, State};

const DEMO: &str = include_str!("../flows/demo.json");

fn demo() -> Bot {
    let flow: Flow = serde_json::from_str(DEMO).expect("demo flow parses");
    Bot::new(flow).expect("demo flow is valid")
}

#[test]
fn answers_each_language_with_typos_and_paraphrases() {
    let bot = demo();
    for (language, input, intent) in [
        ("en", "can i split the payment in 3?", "payment_plans"),
        ("en", "my card got declined", "payment_failed"),
        ("en", "how do i retrun an item", "refund_return"),
        ("sv", "kan jag dela upp betalningen", "payment_plans"),
        ("sv", "jag har glömt lösenordet", "account_login"),
        ("sv", "när förfaller fakturan", "due_date"),
        ("de", "wie kann ich in Raten zahlen", "payment_plans"),
        ("de", "Meine Karte wurde abgelent", "payment_failed"),
        ("de", "ich will mein Geld zurück", "refund_return"),
    ] {
        let reply = bot.turn(&mut State::default(), language, input);
        assert_eq!(reply.intent.as_deref(), Some(intent), "{language}: {input:?} → {reply:?}");
    }
}

#[test]
fn explicit_requests_for_a_person_hand_over_in_every_language() {
    let bot = demo();
    for input in [
        "I want to talk to a human",
        "can I speak to a real person please",
        "agent",
        "Prata med en människa",
        "kundtjänst!",
        "Ich möchte mit einem Menschen sprechen",
        "Bitte einen Mitarbeiter",
    ] {
        let reply = bot.turn(&mut State::default(), "en", input);
        assert_eq!(reply.handoff, Some(EscalationReason::ExplicitRequest), "{input:?}");
    }
}

#[test]
fn two_fallbacks_in_a_row_offer_a_person_with_choices() {
    let bot = demo();
    let mut state = State::default();
    let first = bot.turn(&mut state, "en", "what's the weather on mars");
    assert_eq!(first.intent, None);
    assert_eq!(first.offer_human, None);
    assert!(!first.quick_replies.is_empty(), "a fallback offers topics");
    let second = bot.turn(&mut state, "en", "do you sell pizza toppings");
    assert_eq!(second.offer_human, Some(EscalationReason::RepeatedFallback));
    // An understood turn resets the count.
    let understood = bot.turn(&mut state, "en", "are there any fees");
    assert_eq!(understood.intent.as_deref(), Some("fees"));
    let again = bot.turn(&mut state, "en", "tell me a joke about cats");
    assert_eq!(again.offer_human, None);
}

#[test]
fn frustration_offers_a_person_but_still_answers() {
    let bot = demo();
    for (language, input) in [
        ("en", "this is useless, where is my order"),
        ("en", "WHY WAS MY PAYMENT DECLINED"),
        ("sv", "värdelöst!!! min betalning misslyckades"),
        ("de", "Das ist eine Frechheit, meine Zahlung ist fehlgeschlagen"),
    ] {
        let reply = bot.turn(&mut State::default(), language, input);
        assert_eq!(reply.offer_human, Some(EscalationReason::Frustration), "{input:?}");
        assert_eq!(reply.handoff, None, "the customer still chooses");
    }
}

#[test]
fn slots_are_captured_with_reprompts() {
    let bot = demo();
    let mut state = State::default();
    let ask = bot.turn(&mut state, "en", "where is my order");
    assert!(ask.text.contains("order number"), "{ask:?}");
    let reprompt = bot.turn(&mut state, "en", "it's abc");
    assert!(reprompt.text.contains("5 to 12 digits"), "{reprompt:?}");
    let answer = bot.turn(&mut state, "en", "sure, #1234567.");
    assert_eq!(answer.intent.as_deref(), Some("order_status"));
    assert!(answer.text.starts_with("Order 1234567:"), "{answer:?}");
    assert_eq!(state.slots.get("order_number").map(String::as_str), Some("1234567"));
}

#[test]
fn quick_replies_choose_intents_and_languages_fall_back() {
    let bot = demo();
    let mut state = State::default();
    let reply = bot.choose(&mut state, "sv-SE", "fees");
    assert!(reply.text.contains("påminnelseavgift"), "{reply:?}");
    let unknown_language = bot.turn(&mut State::default(), "fr-FR", "are there any fees");
    assert_eq!(unknown_language.intent.as_deref(), Some("fees"), "unknown languages use the first");
    let follow_ups = bot.choose(&mut state, "en", "payment_plans");
    assert!(follow_ups.quick_replies.iter().any(|(_, intent)| intent == "fees"));
}

#[test]
fn validation_lists_every_problem_with_its_location() {
    let json = r#"{
        "version": 2, "languages": ["en", "sv"],
        "fallback": {"en": "Sorry"}, "offer_human": {"en": "A person?", "sv": "En människa?"},
        "intents": [
            {"id": "a", "examples": {"en": ["hi"]}, "answer": {"text": {"en": "Hello", "sv": ""},
             "quick_replies": [{"label": {"en": "x", "sv": "x"}, "intent": "nope"}],
             "links": [{"label": {"en": "l", "sv": "l"}, "url": "http://insecure.example"}]}},
            {"id": "a", "examples": {"en": ["yo"], "sv": ["!!!"]}, "answer": {"text": {"en": "Hey", "sv": "Hej"}},
             "follow_ups": ["missing"],
             "slots": [{"name": "n", "kind": {"type": "order_number", "min_digits": 9, "max_digits": 3},
                        "prompt": {"en": "n?", "sv": "n?"}, "reprompt": {"en": "n!", "sv": "n!"}}]}
        ]}"#;
    let flow: Flow = serde_json::from_str(json).expect("parses");
    let problems: Vec<String> =
        Bot::new(flow).expect_err("invalid").iter().map(ToString::to_string).collect();
    for expected in [
        "version: this engine reads version 1, not 2",
        "fallback.sv: missing",
        "intents[0].examples.sv: give at least one example phrase",
        "intents[0].answer.text.sv: empty",
        "intents[0].answer.quick_replies[0].intent: no intent \"nope\"",
        "intents[0].answer.links[0].url: links must be https URLs",
        "intents[1].id: duplicate id \"a\"",
        "intents[1].examples.sv: give at least one example phrase",
        "intents[1].slots[0].kind: digits must satisfy 1 ≤ min ≤ max ≤ 32",
        "intents[1].follow_ups[0]: no intent \"missing\"",
    ] {
        assert!(problems.iter().any(|p| p == expected), "missing {expected:?} in {problems:#?}");
    }
    assert_eq!(problems.len(), 10, "{problems:#?}");

    let unknown_field = serde_json::from_str::<Flow>(
        r#"{"version":1,"languages":[],"fallback":{},"offer_human":{},"intents":[],"colour":"red"}"#,
    );
    assert!(unknown_field.is_err(), "typos in field names are reported, not ignored");

    // A slot's kind: the fields its type needs (others are ignored, as they always were on
    // `email`, so that flows stored before still read).
    let kind = |json: &str| serde_json::from_str::<tandem_bot::SlotKind>(json);
    assert_eq!(
        kind(r#"{"type":"order_number","min_digits":4,"max_digits":9}"#).expect("reads"),
        tandem_bot::SlotKind::OrderNumber { min_digits: 4, max_digits: 9 }
    );
    assert_eq!(kind(r#"{"type":"email"}"#).expect("reads"), tandem_bot::SlotKind::Email);
    assert_eq!(kind(r#"{"type":"email","max_digits":9}"#).expect("reads"), tandem_bot::SlotKind::Email);
    for refused in [r#"{"type":"order_number","min_digits":4}"#, r#"{"type":"phone"}"#] {
        assert!(kind(refused).is_err(), "{refused}");
    }
}

#[test]
fn the_greeting_offers_the_flows_starter_topics_in_the_customers_language() {
    let bot = demo();
    let english: Vec<String> = bot.starters("en-GB").into_iter().map(|(label, _)| label).collect();
    assert_eq!(
        english,
        [
            "When is my payment due?",
            "How do I return an item?",
            "What payment plans do you have?",
            "Where is my order?"
        ]
    );
    let swedish = bot.starters("sv");
    assert_eq!(swedish[1], ("Hur returnerar jag en vara?".to_owned(), "refund_return".to_owned()));
    // Taking one is the same as choosing its intent.
    let answer = bot.choose(&mut State::default(), "sv", &swedish[1].1);
    assert_eq!(answer.intent.as_deref(), Some("refund_return"));
}

#[test]
fn starter_topics_are_checked_like_the_rest_of_the_flow() {
    let json = r#"{
        "version": 1, "languages": ["en"],
        "fallback": {"en": "Sorry"}, "offer_human": {"en": "A person?"},
        "intents": [{"id": "a", "examples": {"en": ["hi"]}, "answer": {"text": {"en": "Hello"}}}],
        "starters": {"en": ["a", "a", "nope", "a", "a", "a", "a"], "fr": ["a"]}
    }"#;
    let flow: Flow = serde_json::from_str(json).expect("parses");
    let problems: Vec<String> =
        Bot::new(flow).expect_err("invalid").iter().map(ToString::to_string).collect();
    for expected in [
        "starters.en: at most 6 topics",
        "starters.en[1]: \"a\" is listed twice",
        "starters.en[2]: no intent \"nope\"",
        "starters.fr: language not listed in `languages`",
    ] {
        assert!(problems.iter().any(|p| p == expected), "missing {expected:?} in {problems:#?}");
    }
    let without: Flow = serde_json::from_str(
        r#"{"version":1,"languages":["en"],"fallback":{"en":"?"},"offer_human":{"en":"?"},
            "intents":[{"id":"a","examples":{"en":["hi"]},"answer":{"text":{"en":"Hello"}}}]}"#,
    )
    .expect("starters are optional");
    assert!(Bot::new(without).expect("valid").starters("en").is_empty());
}
