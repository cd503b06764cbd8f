//! The merchant page's JavaScript API: calls made before the app loaded are replayed in order,
//! a signed identity reaches the agent, and the page hears the conversation's events through
//! `Tandem.on` and as DOM events on the host element.

use crate::pages::{ANNA, Console, HostPage, Part, Widget};
use crate::support::{Browser, TestServer, widget_dist};
use serde_json::{Value, json};

/// Waits until the page heard `name` both ways; `Tandem.on` first, then the host element's
/// `tandem:<name>` DOM event.
async fn heard_event(page: &HostPage<'_>, name: &str) -> Vec<Value> {
    let events = page.heard(name, 2).await;
    assert_eq!(events[0][0], json!("on"), "Tandem.on heard {name}");
    assert_eq!(events[1][0], json!("dom"), "the host element dispatched tandem:{name}");
    events
}

/// Now, as the merchant's server would sign it.
fn now_secs() -> i64 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    i64::try_from(secs).expect("seconds")
}

#[tokio::test]
async fn queued_calls_replay_identity_reaches_the_agent_and_the_page_hears_events() {
    let server = TestServer::start(&widget_dist()).await;
    let secret = server.demo_identity_secret().await;
    let mut kim = tandem_protocol::Identity {
        id: "customer-42".into(),
        email: Some("kim@example.com".into()),
        name: Some("Kim Berg".into()),
        issued_at: Some(now_secs()),
        hash: String::new(),
    };
    kim.hash = tandem_server::identity::sign(&secret, &kim).expect("hex");
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    page.wait_for_api().await;
    let widget = Widget::inline(&customer);

    // Before the app has loaded: nothing fetched yet, so these wait in the loader's queue.
    assert!(!page.app_booted().await, "the app is not loaded before these calls");
    page.listen_to_events().await;
    page.call("setLocale", vec![json!("de")]).await;
    page.call("identify", vec![serde_json::to_value(&kim).expect("json")]).await;
    page.call("open", vec![]).await;
    let human = widget.text(Part::HumanButton).await;
    assert_eq!(human, "Mit einem Menschen sprechen", "setLocale('de') was replayed");

    // close() and toggle() once loaded.
    page.call("close", vec![]).await;
    widget.wait_gone(Part::Panel).await;
    page.call("toggle", vec![]).await;
    widget.ask_for_person().await;
    let handoff = heard_event(&page, "handoff").await;
    assert!(handoff[0][2]["conversation_id"].as_str().is_some_and(|id| id.len() == 32), "{handoff:?}");

    console.accept_from_queue().await;
    let who = console.customer().await;
    assert!(
        who.contains("Kim Berg")
            && who.contains("kim@example.com")
            && who.contains("verified customer customer-42"),
        "{who}"
    );
    let joined = heard_event(&page, "agent-joined").await;
    assert_eq!(joined[0][2]["name"], json!("Anna"));

    console.reply("Hallo Kim!").await;
    let message = heard_event(&page, "message").await;
    assert_eq!((&message[0][2]["from"], &message[0][2]["text"]), (&json!("agent"), &json!("Hallo Kim!")));

    console.end_chat().await;
    heard_event(&page, "closed").await;
}

#[tokio::test]
async fn a_forged_identity_is_dropped_and_the_customer_still_reaches_a_person() {
    let server = TestServer::start(&widget_dist()).await;
    server.demo_identity_secret().await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    page.wait_for_api().await;
    let forged = json!({ "id": "someone-else", "issued_at": now_secs(), "hash": "00".repeat(32) });
    page.call("identify", vec![forged]).await;
    page.call("open", vec![]).await;
    Widget::inline(&customer).ask_for_person().await;
    console.accept_from_queue().await;
    let who = console.customer().await;
    assert_eq!(who, "Anonymous visitor", "the forged identity is not shown");
}
