//! The bot in the customer's browser: answers from the merchant's flow, quick replies, and a
//! typed request for a person that starts the handoff with the transcript and the reason.

use crate::pages::{ANNA, Console, HostPage, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};
use serde_json::json;

/// Waits until the bot conversation has `count` lines and `last` holds of the last one.
async fn wait_lines(widget: &Widget<'_>, what: &str, count: usize, last: impl Fn(&str) -> bool) {
    eventually(what, || async {
        let lines = widget.bot_lines().await;
        (lines.len() == count && last(&lines[count - 1])).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_bot_answers_offers_choices_and_hands_over_with_the_transcript() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;

    // An answer from the demo flow, labelled as the bot's, with a follow-up choice.
    widget.send("Can I split my payment?").await;
    wait_lines(&widget, "the bot's answer", 2, |line| line.starts_with("Bot: You can pay in 30 days")).await;
    assert_eq!(widget.bot_lines().await[0], "You: Can I split my payment?");
    let clicked = widget.take_quick_reply().await;
    assert!(clicked.as_str().is_some_and(|label| !label.is_empty()), "a quick reply is offered: {clicked}");
    wait_lines(&widget, "the quick reply's answer", 4, |line| line.contains("reminder fee")).await;

    // Typing a request for a person starts the handoff, carrying the conversation.
    widget.send("I want to talk to a real person").await;
    widget.wait_text(Part::QueueStatus, "in line").await;
    let entry = console.queue_entry().await;
    assert!(entry.contains("asked for a person") && entry.contains("asked the bot for a person"), "{entry}");
    assert!(entry.contains("I want to talk to a real person"), "the preview shows the last lines: {entry}");

    console.accept_from_queue().await;
    let transcript = console.transcript().await;
    assert_eq!(transcript.len(), 7, "greeting + 3 exchanges: {transcript:?}");
    assert_eq!(transcript[1], "Customer: Can I split my payment?");
    assert_eq!(page.kept().await, json!(1), "the conversation is kept once a person was asked for");
}

/// Opens the demo page with `<html lang>` set, as a Swedish or German shop would, and opens
/// the panel.
async fn open_in_language<'a>(server: &TestServer, customer: &'a Browser, lang: &str) -> HostPage<'a> {
    let page = HostPage::open(customer, &server.demo_url()).await;
    page.set_language(lang).await;
    Widget::inline(customer).open().await;
    page
}

#[tokio::test]
async fn the_bot_answers_in_swedish_and_hands_over_when_asked() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    open_in_language(&server, &customer, "sv-SE").await;
    let widget = Widget::inline(&customer);
    let human = widget.text(Part::HumanButton).await;
    assert_eq!(human, "Prata med en människa", "the panel speaks the page's language");

    widget.send("Kan jag dela upp betalningen?").await;
    wait_lines(&widget, "the Swedish answer", 2, |line| line.starts_with("Bot: Du kan betala om 30 dagar"))
        .await;

    widget.send("jag vill prata med en människa").await;
    eventually("the queue, in Swedish", || async {
        let text = widget.text(Part::QueueStatus).await;
        (text.contains("på tur") || text.contains("i kön")).then_some(())
    })
    .await;
    let entry = console.queue_entry().await;
    assert!(entry.contains("asked the bot for a person"), "the agent sees why: {entry}");
    assert!(entry.contains("jag vill prata med en människa"), "{entry}");
}

#[tokio::test]
async fn the_bot_answers_in_german_and_offers_a_person_to_an_upset_customer() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let page = open_in_language(&server, &customer, "de").await;
    let widget = Widget::inline(&customer);

    widget.send("Wann ist meine Zahlung fällig?").await;
    wait_lines(&widget, "the German answer", 2, |line| line.starts_with("Bot: Das Fälligkeitsdatum")).await;

    widget.send("ich bin so sauer!!! NICHTS FUNKTIONIERT HIER").await;
    assert_eq!(widget.text(Part::BotOffer).await, "Jetzt mit einem Menschen sprechen");
    // The customer still chooses: nothing was sent until they take the offer.
    assert_eq!(page.kept().await, json!(0));
    widget.click(Part::BotOffer).await;
    let entry = console.queue_entry().await;
    assert!(entry.contains("accepted the bot's offer") && entry.contains("seemed upset"), "{entry}");
}

/// The greeting offers the flow's starter topics: a customer on a phone gets an answer with one
/// tap (here by keyboard), and can still reach a person without typing.
#[tokio::test]
async fn the_greeting_offers_topics_that_answer_without_typing() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;

    let topics = widget.starter_topics().await;
    assert_eq!(
        topics,
        [
            "When is my payment due?",
            "How do I return an item?",
            "What payment plans do you have?",
            "Where is my order?"
        ]
    );
    widget.take_starter_topic("How do I return an item?").await;
    wait_lines(&widget, "the topic's answer", 2, |line| line.starts_with("Bot: ")).await;
    assert_eq!(widget.bot_lines().await[0], "You: How do I return an item?");
}

/// The merchant's flow drafts the agent's answer: for the customer's "can I split my payment?"
/// the console suggests the flow's `payment_plans` answer, which the agent takes and sends.
#[tokio::test]
async fn the_console_suggests_the_flows_answer_and_the_agent_sends_it() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let (_page, widget, console) = crate::handoff::talking_with_anna(&server, &customer, &agent).await;

    widget.send("Can I split my payment?").await;
    console.wait_messages(&["Can I split my payment?"]).await;
    let (intent, text) = console.suggestion().await;
    assert!(intent.contains("payment_plans"), "{intent}");
    assert!(text.starts_with("You can pay in 30 days"), "the flow's answer: {text}");
    console.use_suggestion().await;
    console.send_reply().await;
    widget.wait_messages(&["Can I split my payment?", &text]).await;
}
