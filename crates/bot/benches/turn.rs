//! One bot turn on a 200-intent flow (goal: ≤ 1 ms native). `cargo bench -p tandem-bot`.

// Benchmarks run natively; for wasm32 (checked by `cargo xtask test`) this is an empty program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::BTreeMap;
    use std::hint::black_box;

    use criterion::{Criterion, criterion_group};
    use tandem_bot::{Answer, Bot, Flow, Intent, State};

    const WORDS: &[&str] = &[
        "payment", "order", "refund", "delivery", "invoice", "account", "password", "card", "return",
        "shipping", "fee", "plan", "date", "email", "phone", "parcel", "discount", "voucher", "receipt",
        "address",
    ];

    fn localized(text: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("en".to_owned(), text.to_owned())])
    }

    /// A flow of 200 intents with 8 examples each, built from a small vocabulary so that many
    /// intents share words (the hard case for ranking).
    fn large_flow() -> Flow {
        let intents = (0..200)
            .map(|i| {
                let examples = (0..8)
                    .map(|e| {
                        let a = WORDS[(i + e) % WORDS.len()];
                        let b = WORDS[(i * 7 + e * 3) % WORDS.len()];
                        format!("how do I change my {a} {b} number {i}")
                    })
                    .collect();
                Intent {
                    id: format!("intent_{i}"),
                    examples: BTreeMap::from([("en".to_owned(), examples)]),
                    keywords: BTreeMap::new(),
                    answer: Answer { text: localized("An answer."), quick_replies: vec![], links: vec![] },
                    slots: vec![],
                    follow_ups: vec![],
                }
            })
            .collect();
        Flow {
            version: 1,
            languages: vec!["en".to_owned()],
            fallback: localized("Sorry?"),
            offer_human: localized("A person?"),
            intents,
            escalation: Default::default(),
            starters: Default::default(),
        }
    }

    fn turn(c: &mut Criterion) {
        let bot = Bot::new(large_flow()).expect("valid flow");
        c.bench_function("turn on a 200-intent flow", |b| {
            b.iter(|| {
                bot.turn(
                    &mut State::default(),
                    "en",
                    black_box("I want to change the delivery adress of my order"),
                )
            })
        });
    }

    criterion_group!(benches, turn);
}
