//! The product's promise, end to end in two browsers: a customer on the demo checkout page asks
//! for a person, an agent in the console accepts, they chat — and a reload and a server restart
//! in the middle lose and double nothing.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};

/// Texts of the messages shown in the widget, in order.
const WIDGET_MESSAGES: &str =
    "return [...root.querySelectorAll('[data-testid=message] .text')].map(e => e.textContent)";
/// Texts of the messages shown in the console's (only) chat, in order.
const CONSOLE_MESSAGES: &str = "return [...document.querySelectorAll('[data-testid=chat] [data-testid=message]')] \
     .map(e => e.lastChild.textContent)";

async fn widget_text(browser: &Browser, selector: &str) -> Option<String> {
    let script = format!("const el = root.querySelector({selector:?}); return el && el.textContent");
    browser.in_widget(&script).await.as_str().map(str::to_owned)
}

async fn wait_widget_text(browser: &Browser, selector: &str, wanted: &str) {
    eventually(&format!("{selector} to read {wanted:?}"), || async {
        widget_text(browser, selector).await.filter(|text| text.contains(wanted))
    })
    .await;
}

async fn messages(browser: &Browser, script: &str) -> Vec<String> {
    let value = if script.contains("root.") {
        browser.in_widget(script).await
    } else {
        browser.js(script, vec![]).await
    };
    serde_json::from_value(value).unwrap_or_default()
}

async fn wait_messages(browser: &Browser, script: &str, wanted: &[&str]) {
    eventually(&format!("the messages {wanted:?}"), || async {
        (messages(browser, script).await == wanted).then_some(())
    })
    .await;
}

async fn agent_says(browser: &Browser, text: &str) {
    let input = browser.client.find(Locator::Css("[data-testid=chat-input]")).await.expect("reply box");
    input.send_keys(text).await.expect("type");
    browser.press(Key::Enter).await;
}

#[tokio::test]
async fn customer_reaches_an_agent_and_nothing_is_lost_across_reload_and_restart() {
    let mut server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());

    agent.sign_in_to_console(&server).await;

    // The customer opens the widget and asks for a person.
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    customer.open_widget().await;
    customer.click_in_widget("[data-testid=human-button]").await;
    wait_widget_text(&customer, "[data-testid=queue-status]", "next in line").await;

    // The agent sees the waiting customer with what the bot said, and accepts.
    let preview = agent.page_text("[data-testid=queue-entry]").await;
    assert!(preview.contains("Ask us anything"), "the preview shows the bot transcript: {preview}");
    agent.click_page("[data-testid=accept]").await;
    let page_url = agent.page_text("[data-testid=page-url]").await;
    assert!(page_url.contains(&server.demo_url()), "{page_url}");
    wait_widget_text(&customer, "[data-testid=human-status]", "You're talking to Anna").await;

    // Messages both ways, rendered as text.
    customer.type_in_widget("Where is my <b>order</b>?").await;
    wait_messages(&agent, CONSOLE_MESSAGES, &["Where is my <b>order</b>?"]).await;
    agent_says(&agent, "Let me check that for you.").await;
    wait_messages(&customer, WIDGET_MESSAGES, &["Where is my <b>order</b>?", "Let me check that for you."])
        .await;
    customer.screenshot("handoff-customer-chatting.png").await;
    agent.screenshot("handoff-agent-chatting.png").await;

    // A reload mid-chat resumes the same conversation with its history.
    customer.client.refresh().await.expect("reload");
    wait_messages(&customer, WIDGET_MESSAGES, &["Where is my <b>order</b>?", "Let me check that for you."])
        .await;
    wait_widget_text(&customer, "[data-testid=human-status]", "You're talking to Anna").await;

    // A server restart mid-chat: both sides reconnect; nothing is lost or doubled.
    server.restart().await;
    customer.type_in_widget("Are you still there?").await;
    let expected = ["Where is my <b>order</b>?", "Let me check that for you.", "Are you still there?"];
    wait_messages(&agent, CONSOLE_MESSAGES, &expected).await;
    agent_says(&agent, "Yes, still here.").await;
    let expected = [
        "Where is my <b>order</b>?",
        "Let me check that for you.",
        "Are you still there?",
        "Yes, still here.",
    ];
    wait_messages(&customer, WIDGET_MESSAGES, &expected).await;
    wait_messages(&agent, CONSOLE_MESSAGES, &expected).await;
    let sequences = customer
        .in_widget(
            "return [...root.querySelectorAll('[data-testid=message]')].map(e => Number(e.dataset.seq))",
        )
        .await;
    assert_eq!(sequences, json!([1, 2, 3, 4]), "each message once, in order");

    // The agent ends the conversation; the customer is told.
    agent.click_page("[data-testid=end]").await;
    wait_widget_text(&customer, "[data-testid=chat-ended]", "The chat has ended").await;
    // The ended chat stays on the desk (for the customer's rating) until the agent closes it.
    let ended = agent.page_text("[data-testid=chat-ended]").await;
    assert!(ended.contains("Conversation ended"), "{ended}");
    agent.click_page("[data-testid=close-chat]").await;
    eventually("the chat to leave the desk", || async {
        let gone =
            agent.js("return document.querySelector('[data-testid=chat]') === null || null", vec![]).await;
        (gone == Value::Bool(true)).then_some(())
    })
    .await;
    let stored = customer.js("return localStorage.length", vec![]).await;
    assert_eq!(stored, json!(0), "an ended conversation is forgotten by the browser");
}
