//! The product's promise, end to end in two browsers: a customer on the demo checkout page asks
//! for a person, an agent in the console accepts, they chat — and a reload and a server restart
//! in the middle lose and double nothing.

use crate::pages::{ANNA, Console, HostPage, Part, Widget};
use crate::support::{Browser, TestServer, widget_dist};
use fantoccini::key::Key;
use serde_json::json;

#[tokio::test]
async fn customer_reaches_an_agent_and_nothing_is_lost_across_reload_and_restart() {
    let mut server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());

    let console = Console::sign_in(&agent, &server, ANNA).await;

    // The customer opens the widget and asks for a person.
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    widget.wait_text(Part::QueueStatus, "next in line").await;

    // The agent sees the waiting customer with what the bot said, and accepts.
    let preview = console.queue_entry().await;
    assert!(preview.contains("Ask us anything"), "the preview shows the bot transcript: {preview}");
    console.accept_from_queue().await;
    let page_url = console.page_url().await;
    assert!(page_url.contains(&server.demo_url()), "{page_url}");
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;

    // Messages both ways, rendered as text.
    widget.send("Where is my <b>order</b>?").await;
    console.wait_messages(&["Where is my <b>order</b>?"]).await;
    console.reply("Let me check that for you.").await;
    widget.wait_messages(&["Where is my <b>order</b>?", "Let me check that for you."]).await;
    customer.screenshot("handoff-customer-chatting.png").await;
    agent.screenshot("handoff-agent-chatting.png").await;

    // A reload mid-chat resumes the same conversation with its history.
    customer.client.refresh().await.expect("reload");
    widget.wait_messages(&["Where is my <b>order</b>?", "Let me check that for you."]).await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;

    // A server restart mid-chat: both sides reconnect; nothing is lost or doubled.
    server.restart().await;
    widget.wait_gone(Part::Reconnecting).await;
    widget.send("Are you still there?").await;
    let expected = ["Where is my <b>order</b>?", "Let me check that for you.", "Are you still there?"];
    console.wait_messages(&expected).await;
    console.reply("Yes, still here.").await;
    let expected = [
        "Where is my <b>order</b>?",
        "Let me check that for you.",
        "Are you still there?",
        "Yes, still here.",
    ];
    widget.wait_messages(&expected).await;
    console.wait_messages(&expected).await;
    assert_eq!(widget.message_sequences().await, json!([1, 2, 3, 4]), "each message once, in order");

    // The agent ends the conversation; the customer is told.
    console.end_chat().await;
    widget.wait_text(Part::ChatEnded, "The chat has ended").await;
    // The ended chat stays on the desk (for the customer's rating) until the agent closes it.
    let ended = console.chat_ended().await;
    assert!(ended.contains("Conversation ended"), "{ended}");
    console.close_chat().await;
    assert_eq!(page.kept().await, json!(0), "an ended conversation is forgotten by the browser");
}

/// What a waiting customer has half typed stays in the composer while the queue moves and the
/// agent joins (the composer is not drawn anew on every change of the conversation's state).
#[tokio::test]
async fn a_half_typed_message_survives_the_agent_joining() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    widget.wait_text(Part::QueueStatus, "next in line").await;

    widget.fill(Part::ComposerInput, "My order number is").await;
    console.accept_from_queue().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    assert_eq!(widget.draft().await, "My order number is");

    widget.press(Key::Enter).await;
    console.wait_messages(&["My order number is"]).await;
}
