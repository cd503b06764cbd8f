//! The bot in the customer's browser: answers from the merchant's flow, quick replies, and a
//! typed request for a person that starts the handoff with the transcript and the reason.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use serde_json::json;

const BOT_LINES: &str = "return [...root.querySelectorAll('[data-testid=bot-line]')] \
     .map(e => e.dataset.from + ': ' + e.querySelector('.text').textContent)";

async fn bot_lines(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.in_widget(BOT_LINES).await).unwrap_or_default()
}

#[tokio::test]
async fn the_bot_answers_offers_choices_and_hands_over_with_the_transcript() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    customer.open_widget().await;

    // An answer from the demo flow, labelled as the bot's, with a follow-up choice.
    customer.type_in_widget("Can I split my payment?").await;
    eventually("the bot's answer", || async {
        let lines = bot_lines(&customer).await;
        (lines.len() == 2 && lines[1].starts_with("Bot: You can pay in 30 days")).then_some(())
    })
    .await;
    assert_eq!(bot_lines(&customer).await[0], "You: Can I split my payment?");
    let clicked = customer
        .in_widget("const b = root.querySelector('[data-testid=quick-reply]'); if (b) b.click(); return b && b.textContent")
        .await;
    assert!(clicked.as_str().is_some_and(|label| !label.is_empty()), "a quick reply is offered: {clicked}");
    eventually("the quick reply's answer", || async {
        let lines = bot_lines(&customer).await;
        (lines.len() == 4 && lines[3].contains("reminder fee")).then_some(())
    })
    .await;

    // Typing a request for a person starts the handoff, carrying the conversation.
    customer.type_in_widget("I want to talk to a real person").await;
    eventually("the queue", || async {
        let text = customer
            .in_widget(
                "const q = root.querySelector('[data-testid=queue-status]'); return q && q.textContent",
            )
            .await;
        text.as_str().filter(|t| t.contains("in line")).map(str::to_owned)
    })
    .await;
    let entry = agent.page_text("[data-testid=queue-entry]").await;
    assert!(entry.contains("asked for a person") && entry.contains("asked the bot for a person"), "{entry}");
    assert!(entry.contains("I want to talk to a real person"), "the preview shows the last lines: {entry}");

    agent
        .client
        .find(fantoccini::Locator::Css("[data-testid=accept]"))
        .await
        .expect("accept")
        .click()
        .await
        .expect("click");
    let transcript = eventually("the transcript in the chat", || async {
        let lines = agent
            .js("return [...document.querySelectorAll('[data-testid=transcript-line]')].map(e => e.textContent)", vec![])
            .await;
        let lines: Vec<String> = serde_json::from_value(lines).unwrap_or_default();
        (!lines.is_empty()).then_some(lines)
    })
    .await;
    assert_eq!(transcript.len(), 7, "greeting + 3 exchanges: {transcript:?}");
    assert_eq!(transcript[1], "Customer: Can I split my payment?");
    let stored = customer.js("return localStorage.length", vec![]).await;
    assert_eq!(stored, json!(1), "the conversation is kept once a person was asked for");
}

/// Opens the demo page with `<html lang>` set, as a Swedish or German shop would, and waits
/// for the panel.
async fn open_in_language(server: &TestServer, customer: &Browser, lang: &str) {
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    customer.js("document.documentElement.lang = arguments[0]", vec![json!(lang)]).await;
    customer.open_widget().await;
}

#[tokio::test]
async fn the_bot_answers_in_swedish_and_hands_over_when_asked() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    open_in_language(&server, &customer, "sv-SE").await;
    let human = eventually("the human button", || async {
        let text = customer
            .in_widget(
                "const b = root.querySelector('[data-testid=human-button]'); return b && b.textContent",
            )
            .await;
        text.as_str().map(str::to_owned)
    })
    .await;
    assert_eq!(human, "Prata med en människa", "the panel speaks the page's language");

    customer.type_in_widget("Kan jag dela upp betalningen?").await;
    eventually("the Swedish answer", || async {
        let lines = bot_lines(&customer).await;
        (lines.len() == 2 && lines[1].starts_with("Bot: Du kan betala om 30 dagar")).then_some(())
    })
    .await;

    customer.type_in_widget("jag vill prata med en människa").await;
    eventually("the queue, in Swedish", || async {
        let text = customer
            .in_widget(
                "const q = root.querySelector('[data-testid=queue-status]'); return q && q.textContent",
            )
            .await;
        text.as_str().filter(|t| t.contains("på tur") || t.contains("i kön")).map(str::to_owned)
    })
    .await;
    let entry = agent.page_text("[data-testid=queue-entry]").await;
    assert!(entry.contains("asked the bot for a person"), "the agent sees why: {entry}");
    assert!(entry.contains("jag vill prata med en människa"), "{entry}");
}

#[tokio::test]
async fn the_bot_answers_in_german_and_offers_a_person_to_an_upset_customer() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    open_in_language(&server, &customer, "de").await;

    customer.type_in_widget("Wann ist meine Zahlung fällig?").await;
    eventually("the German answer", || async {
        let lines = bot_lines(&customer).await;
        (lines.len() == 2 && lines[1].starts_with("Bot: Das Fälligkeitsdatum")).then_some(())
    })
    .await;

    customer.type_in_widget("ich bin so sauer!!! NICHTS FUNKTIONIERT HIER").await;
    let offer = eventually("the bot's offer of a person", || async {
        let offer = customer
            .in_widget(
                "const b = root.querySelector('[data-testid=bot-offer] button'); return b && b.textContent",
            )
            .await;
        offer.as_str().map(str::to_owned)
    })
    .await;
    assert_eq!(offer, "Jetzt mit einem Menschen sprechen");
    // The customer still chooses: nothing was sent until they take the offer.
    assert_eq!(customer.js("return localStorage.length", vec![]).await, json!(0));
    customer.in_widget("root.querySelector('[data-testid=bot-offer] button').click()").await;
    let entry = agent.page_text("[data-testid=queue-entry]").await;
    assert!(entry.contains("accepted the bot's offer") && entry.contains("seemed upset"), "{entry}");
}
